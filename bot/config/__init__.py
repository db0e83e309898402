"""Configuration: the environment (`settings`) and the routing config file (`routing`)."""
