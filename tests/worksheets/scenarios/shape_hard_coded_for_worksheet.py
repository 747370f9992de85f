# Right on the worksheet's 2-3-1 network only: the seeded cases of other sizes catch it.
# base: solution
# expect lost: 0.6
# expect dJdW2_shape: wrong 0.4


def dJdW2_shape(input_layer_size, hidden_layer_size, output_layer_size):
    return (3, 1)
