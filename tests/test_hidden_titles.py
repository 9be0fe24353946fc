"""Every hidden check's title names its rule (issue 19, item 4). A check's title is the first
line of its docstring, the line a student reads in the feedback beside PASS or FAIL; a failed
line must be a sentence they can act on, so it says the rule (eps, momentum, the axis, which
split), not only what is compared.

RULES lists, for every check of every suite, the words of its rule that its title must hold: a
new check must be added here, and a title that loses its rule fails."""
import ast

import pytest

from conftest import REPO

RULES = {
    "batchnorm": {
        "test_train_output_float64": ["train mode", "sqrt(var + eps)", "biased var", "axis 0", "gamma", "beta"],
        "test_train_output_float32": ["float32", "axis 0", "biased var", "eps"],
        "test_train_tiny_variance": ["eps inside the square root", "sqrt(var + eps)"],
        "test_train_large_offset": ["offset", "around the batch mean"],
        "test_train_batch_of_one": ["batch of one", "eps", "out is beta"],
        "test_running_stats_first_step": ["momentum 0.9", "zeros of shape (D,)", "(1 - momentum)", "biased var"],
        "test_running_stats_several_steps": ["momentum 0.7", "momentum * running + (1 - momentum)", "(D,)"],
        "test_test_mode_uses_running_stats": ["test mode", "running_mean", "sqrt(running_var + eps)"],
        "test_train_steps_then_test": ["test mode", "running averages", "eps"],
        "test_input_not_modified": ["not modified in place"],
        "test_unknown_mode_raises_value_error": ["unknown mode raises ValueError", "mode 'train' works"],
        "test_trainable_params_answer": ["weights and biases", "gamma and beta"],
    },
    "cnn_arithmetic": {
        "test_conv_output_size_seed_layers": ["floor(", "d(k - 1)", "stride 2", "dilation"],
        "test_conv_output_size_random": ["floor(", "dilation * (kernel - 1)", "stride", "rounded down"],
        "test_pool_output_size_random": ["floor(", "stride defaulting to the pool size"],
        "test_conv_params_with_bias": ["(kernel * kernel * c_in + 1) * c_out"],
        "test_conv_params_rectangular_and_no_bias": ["kh * kw * c_in * c_out", "biases only when bias=True"],
        "test_same_padding": ["(f - 1) / 2", "stride-1", "odd f"],
        "test_q5_output_shapes": ["(height, width, channels)", "rounded down"],
        "test_q5_params": ["(k * k * c_in + 1) * c_out", "0 for each pooling layer"],
        "test_q5_dilation8": ["d * (k - 1) + 1", "fits"],
        "test_fc_batchnorm": ["weights and biases", "gamma and beta"],
        "test_seed001_q3_shapes": ["'same' padding at stride 2", "ceil(n / 2)", "2x2 pooling"],
        "test_seed001_q3_params": ["(k * k * c_in + 1) * c_out", "(inputs + 1) * units"],
        "test_alexnet_params": ["weights and biases", "227 x 227", "pooling has none"],
        "test_vgg16_params": ["weights and biases", "224 x 224", "pooling has none"],
        "test_conv2d_valid_random": ["cross-correlation", "not flipped", "(H - kh + 1, W - kw + 1)"],
        "test_gap_filter_gradient_random": ["dL/dF", "mean(conv2d_valid(x, F))", "finite differences"],
        "test_gap_example_answers": ["example_gap (the mean of the output)", "example_dL_dF"],
        "test_receptive_field_random": ["dilation * (kernel - 1)", "product of the earlier strides"],
        "test_relative_receptive_field": ["divided by the input size"],
    },
    "flowers": {
        "test_validation_from_validation_folder": ["data/validation only", "never the test folder"],
        "test_datasets_match_the_split": ["exactly the files of their part", "no image in two parts"],
        "test_evaluation_batches_are_the_images": ["training=False", "unaugmented", "the same on every pass"],
        "test_base_and_head": ["MobileNetV2 base", "GlobalAveragePooling2D", "Dropout", "Dense(5, softmax)"],
        "test_preprocessing_is_mobilenet_v2s": ["[0, 255]", "x / 127.5 - 1", "inside the model"],
        "test_base_frozen_in_head_stage": ["head stage", "base is frozen"],
        "test_only_top_unfrozen_for_fine_tuning": ["top of the base only", "bottom stays frozen"],
        "test_accuracy_on_grader_images": ["accuracy", "images the grader decodes", "budget's threshold"],
        "test_counts_per_class_and_part": ["round(n * 0.1) validation", "round(n * 0.1) test", "each class"],
        "test_parts_disjoint_and_complete": ["disjoint", "exactly once", "copies"],
        "test_deterministic_for_a_seed": ["same seed gives the same split", "another seed a different one"],
        "test_source_intact_and_rerun_idempotent": ["untouched", "second run", "changes nothing"],
    },
    "gas_consumption": {
        "test_scalers_fitted_on_training_rows": ["input and target scalers", "chronological training part only"],
        "test_predictions_in_consumption_units": ["consumption units", "inverse transform"],
        "test_reported_r2_in_consumption_units": ["R^2", "consumption units", "metrics.json"],
        "test_r2_above_threshold": ["R^2 in consumption units", "test-part", "budget's threshold"],
        "test_beats_seasonal_naive": ["seasonal-naive", "same hour of the previous day"],
        "test_window_shapes": ["(T - lookback - horizon + 1, lookback, F)"],
        "test_window_alignment": ["t-horizon-lookback+1 .. t-horizon"],
        "test_split_function": ["contiguous", "disjoint", "time order", "no shuffling", "fractions"],
        "test_saved_split": ["contiguous", "disjoint", "time order", "fractions"],
    },
    "gradcam": {
        "test_shuffle_is_a_permutation_that_keeps_pairs": ["one permutation", "images and labels alike"],
        "test_scale_images": ["/ 255", "float32", "(N, 28, 28, 1)"],
        "test_one_hot_labels": ["(N, 10)", "single 1 at the label's index"],
        "test_layer_order": ["3 x (Conv2D, MaxPooling2D), Flatten, Dense, Dense", "(28, 28, 1)"],
        "test_convolutions": ["32, 64 and 128 filters", "3x3", "ReLU", "'same'"],
        "test_pooling": ["MaxPooling2D", "2x2", "after each Conv2D"],
        "test_dense_head": ["Flatten", "Dense(128, ReLU)", "Dense(10, softmax)"],
        "test_loss_and_optimizer": ["categorical cross-entropy", "Adam"],
        "test_test_accuracy": ["held-out", "budget's threshold", "step count"],
        "test_heatmap_shape_and_range": ["named layer's height x width", "[0, 1]", "peak 1"],
        "test_predicted_class_matches_reference": ["pred_index=None", "top-scoring class", "mean gradients", "ReLU"],
        "test_given_class_matches_reference": ["explicit pred_index", "that class"],
        "test_named_layer_is_used": ["last_conv_layer_name", "the layer named"],
        "test_saved_heatmaps_shape": ["(5, 28, 28, 1)", "last conv layer's height x width", "[0, 1]"],
        "test_saved_heatmaps_are_gradcam_of_saved_model": ["Grad-CAM of the saved model", "last conv layer",
                                                            "predicted class"],
    },
    "kerastuner_mnist": {
        "test_required_hyperparameters": ["conv_layers", "dense_layers", "filters_i", "units_i", "optimizer",
                                          "learning_rate"],
        "test_ranges_within_limits": ["1-5 conv layers", "0-5 dense layers", "<= 256 filters and units",
                                      "learning rate <= 1e-3"],
        "test_corner_models_within_limits": ["corners", "limits"],
        "test_corners_build_with_convolution_and_pooling": ["compiles", "10 softmax probabilities", "convolution",
                                                            "pooling"],
        "test_fixed_values_set_the_layers": ["fixed conv_layers, filters_i, dense_layers, units_i", "exactly"],
        "test_fixed_values_set_the_optimizer": ["fixed optimizer and learning_rate"],
        "test_search_completed_within_budget": ["completed trials", "objective val_accuracy", "within the limits"],
        "test_saved_hyperparameters_are_the_best_trial": ["highest val_accuracy"],
        "test_best_model_is_the_hypermodel_at_the_best_values": ["build_model at the values it was retrained at",
                                                                 "full search", "best trial", "limits"],
        "test_best_model_accuracy": ["test accuracy", "retrained at your full search's chosen values",
                                     "budget's threshold"],
        "test_splits_scaled_and_sized": ["float32 (N, 28, 28, 1)", "[0, 1]", "validation_fraction",
                                         "test set complete"],
        "test_validation_comes_from_training_images": ["training images", "disjoint from the fit set",
                                                       "never test images"],
    },
    "medical": {
        "test_split_partitions_the_rows": ["exactly one of train, validation and test", ">= 10 %"],
        "test_split_is_stratified": ["stratified", "share of malignant rows"],
        "test_scaler_statistics_are_the_training_rows": ["mean and standard deviation", "training rows only"],
        "test_metrics_default_positive_is_malignant": ["TP / (TP + FN)", "TN / (TN + FP)", "malignant (0)"],
        "test_metrics_positive_one": ["positive=1", "benign is the positive class"],
        "test_metrics_degenerate_raise_value_error": ["raises ValueError", "no positive", "if a mixed y_true works"],
        "test_threshold_is_chosen_on_validation": ["highest", "reaches 0.95", "validation rows (never test)"],
        "test_test_auc": ["ROC AUC", "P(malignant)", "test rows", "budget's minimum"],
        "test_test_sensitivity_at_threshold": ["test sensitivity", "malignant positive", "saved threshold"],
        "test_saved_test_probabilities_are_the_models": ["P(malignant)", "test_idx order"],
        "test_report_matches_the_grader": ["sensitivity, specificity, AUC", "malignant positive",
                                           "confusion matrix"],
    },
    "theory": {
        "test_conv1d_params": ["(c_in * kernel + 1) * c_out", "nn.Conv1d"],
        "test_rnn_params": ["units * (input_dim + units + 2)", "two bias vectors"],
        "test_lstm_params": ["four gates", "4 * units * (input_dim + units + 2)"],
        "test_dense_on_sequence_params": ["(length * input_dim + 1) * units", "flattened sequence"],
        "test_params_depend_on_length": ["shared over time", "do not grow with the length", "dense layer"],
        "test_bn_statement_a": ["is false", "each step slower", "fewer steps"],
        "test_bn_statement_b": ["is true", "mini-batch's mean and variance", "gamma", "beta"],
        "test_bn_statement_c": ["is false", "less sensitive to the scale of the initial weights"],
        "test_correlate_same_random": ["cross-correlation", "not flipped", "zero padding (k - 1) / 2", "image's shape"],
        "test_laplacian_line_output": ["5 x 5", "8-neighbour Laplacian", "zero padding"],
        "test_conv_cost_random": ["k * k * c_in * c_out", "h * w * k * k * c_in * c_out MACs", "'same'"],
        "test_bottleneck_answers": ["keeps height and width", "1x1 reduction to 16 channels"],
        "test_inception_params_random": ["four branches", "biases only when bias=True"],
        "test_googlenet_params": ["nine inception blocks", "1024 -> 1000", "bias=False"],
    },
}


def checks_of(assignment: str) -> dict:
    """{check name: (its title, whether it carries a points marker)} for every test_* function."""
    found = {}
    for path in sorted((REPO / "tests" / "hidden" / assignment).rglob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                marked = any("points" in ast.unparse(d) for d in node.decorator_list)
                found[node.name] = ((ast.get_docstring(node) or "").splitlines()[:1] or [""])[0], marked
    return found


@pytest.mark.parametrize("assignment", sorted(RULES))
def test_every_check_has_a_title_naming_its_rule(assignment):
    checks = checks_of(assignment)
    assert set(checks) == set(RULES[assignment]), "checks and RULES differ: add the new checks' rules here"
    for name, (title, marked) in checks.items():
        assert marked, f"{name} is collected by pytest but carries no points marker"
        missing = [word for word in RULES[assignment][name] if word.lower() not in title.lower()]
        assert not missing, f"{assignment}: the title of {name} ({title!r}) does not name {missing}"


def test_every_suite_is_covered():
    assert set(RULES) == {p.name for p in (REPO / "tests" / "hidden").iterdir() if p.is_dir() and p.name != "__pycache__"}
