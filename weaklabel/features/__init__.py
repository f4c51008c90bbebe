"""Audio representations: feature stores, mel spectrograms and the embedders that fill the stores."""
