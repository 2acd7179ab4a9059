"""The image library: golden images, their clones and snapshots, and which node boots which."""
