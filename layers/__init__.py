"""The platform's layers, in the order data flows through them.

Each layer is a function that takes the validated `StackConfig`, a `Placement`
(where its components go in the resource tree) and the typed results of the
layers before it, and returns its own typed, frozen result. Each translation
from a config section to a component's Args lives once, in the layer that uses
it; cross-cutting wiring (diagnostics, private endpoints, CMK consumers, role
assignments) stays in `components/base.py`. `layers.platform.Platform` composes
them, and `__main__.py` only loads the config and builds one Platform.

- `foundation`: resource group, monitoring, network, identities, Key Vault
- `processing`: the lake (storage), and Databricks: workspace, Unity Catalog, runtime, jobs
- `ingestion`: Event Hubs or Confluent Cloud, either one a `KafkaSource`
- `serving`: Azure SQL (Power BI's source) and the Databricks SQL dashboards and alerts
"""
