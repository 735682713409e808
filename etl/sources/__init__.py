"""Sources: the declared registry (registry.yaml) and, per producer, the readers that know its files."""
