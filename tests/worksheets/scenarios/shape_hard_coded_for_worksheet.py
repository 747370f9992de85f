# Right on the worksheet's 2-3-1 network only: the seeded cases of other sizes catch it. Right
# only where the answers are published, and wrong on every other case: a lookup of the published
# answers would do as much, so it earns nothing and is flagged (issue 27, 8).
# base: solution
# expect lost: 1
# expect dJdW2_shape: wrong 0
# expect feedback dJdW2_shape: right only on the worksheet's own cases, whose answers are published
# expect feedback dJdW2_shape: as if sized for 3 hidden units (wrong with 4, 2 and 5)


def dJdW2_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (3, 1)
