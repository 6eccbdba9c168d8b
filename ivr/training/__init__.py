"""Training and evaluating the answer model offline: data, augmentation, fitting, figures."""
