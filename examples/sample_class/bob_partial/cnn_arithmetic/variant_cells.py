"""bob_partial's answers for his own numbers (hwtools.variants), with his mistakes: sizes
rounded up and convolutions without their biases in the table, batch norm's running
statistics counted as trainable, the example's gradient of the sum (dL/dO = 1). He checked
layer 8's misprint and seed 001's network in PyTorch, so those are right."""
import math


def cells(variant):
    q5, q3, fc_bn, gap = variant["q5"], variant["q3"], variant["fc_bn"], variant["gap"]
    size, channels, shapes, params, floor_size, received = q5["input"][0], q5["input"][2], [], [], q5["input"][0], []
    for layer in q5["layers"]:
        received.append(floor_size)
        if layer["kind"] == "maxpool":
            size = math.ceil((size - layer["pool"]) / layer["stride"]) + 1
            floor_size = (floor_size - layer["pool"]) // layer["stride"] + 1
            params.append(0)
        else:
            k, d, s = layer["kernel"], layer["dilation"], layer["stride"]
            padding = (k - 1) // 2 if layer["padding"] == "same" else 0
            size = math.ceil((size + 2 * padding - d * (k - 1) - 1) / s) + 1
            floor_size = (floor_size + 2 * padding - d * (k - 1) - 1) // s + 1
            params.append(k * k * channels * layer["filters"])
            channels = layer["filters"]
        shapes.append((size, size, channels))
    span = q5["misprinted_layer8_dilation"] * (q5["layers"][7]["kernel"] - 1) + 1
    n, filters = q3["input"][0], q3["filters"]
    conv = math.ceil(n / q3["stride"])
    pool = conv // q3["pool"]
    x, f = gap["x"], gap["f"]
    rows, cols = len(x) - len(f) + 1, len(x[0]) - len(f[0]) + 1
    output = [[sum(x[i + m][j + q] * f[m][q] for m in range(len(f)) for q in range(len(f[0]))) for j in range(cols)]
              for i in range(rows)]
    gradient = [[sum(x[i + m][j + q] for i in range(rows) for j in range(cols)) for q in range(len(f[0]))]
                for m in range(len(f))]
    units = fc_bn["units"]
    return {"cnn_arithmetic.ipynb": {
        "q5_table": f"q5_output_shapes = {shapes}\nq5_params = {params}\n",
        "q5_dilation8": f"q5_d8_effective_kernel = {span}\nq5_d8_fits = {span <= received[7]}\n",
        "fc_batchnorm": f"fc_bn_trainable_params = {fc_bn['inputs']} * {units} + {units} + 4 * {units}\n",
        "seed001_q3": (f"q3_conv_shape = ({conv}, {conv}, {filters})\n"
                       f"q3_conv_params = {filters * (q3['kernel'] ** 2 * q3['input'][2] + 1)}\n"
                       f"q3_pool_shape = ({pool}, {pool}, {filters})\n"
                       f"q3_flatten_size = {pool * pool * filters}\n"
                       f"q3_dense_params = {q3['units'] * (pool * pool * filters + 1)}\n"),
        "gap_example": (f"example_output = {output}\nexample_gap = {sum(map(sum, output)) / (rows * cols)}\n"
                        f"example_dL_dF = {gradient}\n"),
    }}
