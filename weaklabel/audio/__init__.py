"""Audio in: reading and resampling files, fixed-length clip windows, log-mel spectrograms."""
