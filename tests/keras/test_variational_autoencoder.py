"""The variational autoencoder example (keras.io/examples/generative/vae) on 12x12x1 random images, with the
custom train_step in the PyTorch-backend style: the Sampling layer, the encoder and decoder functional models,
and the VAE Model subclass tracking three keras.metrics.Mean values."""
import numpy as np

import chainrule as keras
from chainrule import layers, ops

latent_dim = 2


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


def encoder_model():
    encoder_inputs = keras.Input(shape=(12, 12, 1))
    x = layers.Conv2D(4, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
    x = layers.Conv2D(8, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling()([z_mean, z_log_var])
    return keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")


def decoder_model():
    latent_inputs = keras.Input(shape=(latent_dim,))
    x = layers.Dense(3 * 3 * 8, activation="relu")(latent_inputs)
    x = layers.Reshape((3, 3, 8))(x)
    x = layers.Conv2DTranspose(8, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(4, 3, activation="relu", strides=2, padding="same")(x)
    decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    return keras.Model(latent_inputs, decoder_outputs, name="decoder")


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, inputs):
        return self.decoder(self.encoder(inputs)[2])

    def train_step(self, data):
        self.zero_grad()
        z_mean, z_log_var, z = self.encoder(data)
        reconstruction = self.decoder(z)
        reconstruction_loss = ops.mean(ops.sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2)))
        kl_loss = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
        kl_loss = ops.mean(ops.sum(kl_loss, axis=1))
        total_loss = reconstruction_loss + kl_loss
        total_loss.backward()
        gradients = [v.grad for v in self.trainable_weights]
        self.optimizer.apply(gradients, self.trainable_weights)
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {
            "loss": self.total_loss_tracker.result(),
            "reconstruction_loss": self.reconstruction_loss_tracker.result(),
            "kl_loss": self.kl_loss_tracker.result(),
        }


def digits(count=64, seed=0):
    rng = np.random.default_rng(seed)
    patterns = (np.random.default_rng(42).random((4, 12, 12, 1)) > 0.5).astype("float32")
    return np.clip(patterns[rng.integers(0, 4, size=count)] + 0.1 * rng.random((count, 12, 12, 1)), 0, 1
                   ).astype("float32")


def test_the_encoder_and_decoder_have_the_examples_outputs():
    encoder, decoder = encoder_model(), decoder_model()
    z_mean, z_log_var, z = encoder.predict(digits(4), verbose=0)
    assert z_mean.shape == z_log_var.shape == z.shape == (4, latent_dim)
    assert decoder.predict(z, verbose=0).shape == (4, 12, 12, 1)


def test_the_vae_has_its_sub_models_trainable_weights_and_its_loss_decreases():
    encoder, decoder = encoder_model(), decoder_model()
    vae = VAE(encoder, decoder)
    assert len(vae.trainable_weights) == len(encoder.trainable_weights) + len(decoder.trainable_weights) == 18
    vae.compile(optimizer=keras.optimizers.Adam(0.01))
    history = vae.fit(digits(), epochs=6, batch_size=16, verbose=0)
    assert set(history.history) == {"loss", "reconstruction_loss", "kl_loss"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_allclose(np.array(history.history["loss"]),
                               np.array(history.history["reconstruction_loss"]) + np.array(history.history["kl_loss"]),
                               rtol=1e-3)
