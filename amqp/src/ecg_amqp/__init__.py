"""The AMQP layer of both services: one place for declaring the topology, publishing events
and keeping a connection (with failover across a cluster's nodes) alive."""
