"""Real adapters of the drill's ports: boto3, the system clock, subprocess and urllib probes."""
