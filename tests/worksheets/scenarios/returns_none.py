# A forgotten `return` is named as such.
# base: solution
# expect lost: 1
# expect delta3_shape: wrong 0
# expect feedback delta3_shape: returned None (is a `return` missing?)


def delta3_shape(num_examples, output_layer_size):
    (num_examples, output_layer_size)
