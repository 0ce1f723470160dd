"""The colorization studio's web app (Dash). It asks `colorizers` for results and knows nothing of TensorFlow."""
