"""alice_correct's answers for her own numbers (hwtools.variants): she counts the positions a
window visits, as her conv_output_size does, and types the results in as plain numbers."""


def visited(n, kernel, stride=1, padding=0, dilation=1):
    span, start, count = dilation * (kernel - 1) + 1, 0, 0
    while start + span <= n + 2 * padding:
        count, start = count + 1, start + stride
    return count


def cells(variant):
    q5, q3, fc_bn, gap = variant["q5"], variant["q3"], variant["fc_bn"], variant["gap"]
    size, channels, shapes, params, received = q5["input"][0], q5["input"][2], [], [], []
    for layer in q5["layers"]:
        received.append(size)
        if layer["kind"] == "maxpool":
            size = visited(size, layer["pool"], layer["stride"])
            params.append(0)
        else:
            k = layer["kernel"]
            size = visited(size, k, layer["stride"], k // 2 if layer["padding"] == "same" else 0, layer["dilation"])
            params.append((k * k * channels + 1) * layer["filters"])
            channels = layer["filters"]
        shapes.append([size, size, channels])
    span = q5["misprinted_layer8_dilation"] * (q5["layers"][7]["kernel"] - 1) + 1
    n, filters, kernel = q3["input"][0], q3["filters"], q3["kernel"]
    conv = -(-n // q3["stride"])
    pool = visited(conv, q3["pool"], q3["pool"])
    x, f = gap["x"], gap["f"]
    rows, cols = len(x) - len(f) + 1, len(x[0]) - len(f[0]) + 1
    output = [[float(sum(x[i + m][j + q] * f[m][q] for m in range(len(f)) for q in range(len(f[0]))))
               for j in range(cols)] for i in range(rows)]
    gradient = [[sum(x[i + m][j + q] for i in range(rows) for j in range(cols)) / (rows * cols)
                 for q in range(len(f[0]))] for m in range(len(f))]
    fits_text = ("fits: the layer gives an output" if span <= received[7] else
                 "cannot be applied without padding; PyTorch raises an error")
    return {"cnn_arithmetic.ipynb": {
        "q5_table": f"q5_output_shapes = {shapes}\nq5_params = {params}\n",
        "q5_dilation8": f"q5_d8_effective_kernel = {span}\nq5_d8_fits = {span <= received[7]}\n",
        "fc_batchnorm": f"fc_bn_trainable_params = {fc_bn['inputs'] * fc_bn['units'] + 3 * fc_bn['units']}\n",
        "seed001_q3": (f"q3_conv_shape = ({n} // 2 + {n % 2}, {n} // 2 + {n % 2}, {filters})\n"
                       f"q3_conv_params = {(kernel * kernel * q3['input'][2] + 1) * filters}\n"
                       f"q3_pool_shape = ({pool}, {pool}, {filters})\n"
                       f"q3_flatten_size = {pool * pool * filters}\n"
                       f"q3_dense_params = {(pool * pool * filters + 1) * q3['units']}\n"),
        "gap_example": (f"example_output = {output}\nexample_gap = {sum(map(sum, output)) / (rows * cols)}\n"
                        f"example_dL_dF = {gradient}\n"),
        "answer_dilation8": (f"The dilated kernel covers {span} positions and the map is {received[7]} wide, so "
                             f"layer 8 {fits_text}."),
    }}
