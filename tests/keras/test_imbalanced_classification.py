"""Imbalanced classification: credit card fraud detection
(keras.io/examples/structured_data/imbalanced_classification), on 29 random features with few positives."""
import numpy as np

import chainrule as keras


def fraud_data(count=200, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(count, 29)).astype("float32")
    targets = (features[:, 0] + 0.5 * features[:, 1] > 1.6).astype("float32").reshape(-1, 1)
    return features, targets


def normalize(train, val):
    mean = np.mean(train, axis=0)
    std = np.std(train, axis=0)
    return (train - mean) / std, (val - mean) / std


def fraud_model():
    return keras.Sequential([
        keras.Input(shape=(29,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(1, activation="sigmoid"),
    ])


def test_class_weights_from_the_counts_train_with_precision_and_recall():
    features, targets = fraud_data()
    train_features, val_features = normalize(features[:160], features[160:])
    train_targets, val_targets = targets[:160], targets[160:]
    counts = np.bincount(train_targets[:, 0].astype("int64"))
    assert 0 < counts[1] < counts[0] / 4
    weight_for_0 = 1.0 / counts[0]
    weight_for_1 = 1.0 / counts[1]
    class_weight = {0: weight_for_0, 1: weight_for_1}
    model = fraud_model()
    metrics = [keras.metrics.Precision(name="precision"), keras.metrics.Recall(name="recall")]
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=metrics)
    history = model.fit(train_features, train_targets, batch_size=64, epochs=4, verbose=0,
                        validation_data=(val_features, val_targets), class_weight=class_weight)
    assert {"loss", "precision", "recall", "val_loss", "val_precision", "val_recall"} == set(history.history)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_precision_and_recall_match_the_counts_at_threshold_one_half():
    features, targets = fraud_data()
    model = fraud_model()
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=[keras.metrics.Precision(name="precision"), keras.metrics.Recall(name="recall")])
    model.fit(features, targets, batch_size=64, epochs=2, verbose=0)
    loss, precision, recall = model.evaluate(features, targets, verbose=0)
    predicted = model.predict(features, verbose=0) > 0.5
    actual = targets > 0.5
    tp = np.sum(predicted & actual)
    fp = np.sum(predicted & ~actual)
    fn = np.sum(~predicted & actual)
    np.testing.assert_allclose(precision, tp / (tp + fp) if tp + fp else 0.0, rtol=1e-5)
    np.testing.assert_allclose(recall, tp / (tp + fn) if tp + fn else 0.0, rtol=1e-5)


def test_class_weight_makes_the_rare_class_count_as_much_as_the_common_one():
    features, targets = fraud_data()
    counts = np.bincount(targets[:, 0].astype("int64"))
    model = keras.Sequential([keras.Input(shape=(29,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="binary_crossentropy")
    class_weight = {0: 1.0 / counts[0], 1: 1.0 / counts[1]}
    history = model.fit(features, targets, batch_size=len(targets), epochs=1, class_weight=class_weight,
                        verbose=0)
    p = np.clip(model.predict(features, verbose=0), 1e-7, 1 - 1e-7)
    losses = -(targets * np.log(p) + (1 - targets) * np.log(1 - p))[:, 0]
    weights = np.where(targets[:, 0] > 0.5, class_weight[1], class_weight[0])
    np.testing.assert_allclose(history.history["loss"][0], np.sum(weights * losses) / len(targets), rtol=1e-4)
