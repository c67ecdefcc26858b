"""Data: synthetic world, dataset loaders, delayed clips, uplink codec."""
