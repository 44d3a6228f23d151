"""Train lab: train any model the app knows in a worker thread and watch it learn."""
