"""Event producers: the sinks every producer shares, and the API poller that runs on Azure Functions.

Nothing here imports Spark: the API poller's deployment package carries this
package and nothing else of the repository.
"""
