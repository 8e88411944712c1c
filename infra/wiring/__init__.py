"""The program's wiring, one module per config section: each turns its section of
`Settings` into the components' Args and builds them.

    foundation     providers and keys per region, network, buckets, shared ALBs
    cluster        EKS, node groups, add-ons, controllers
    data_stores    Aurora, ElastiCache, MSK, Kafka topics, database logins
    observability  metrics, alerts, logs, traces, UIs
    services       per service: workload role + connection ConfigMap, blue-green objects
    exports        the stack outputs

`infra/stack.py` calls them in dependency order; nothing here reads config or holds a rule.
"""
