"""Where recordings and their labels come from: the CMU-MOSEI layout, gold files, recordings manifests."""
