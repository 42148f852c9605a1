"""The assistant service: the platform's chat widget talks to it over a WebSocket, other systems
over HTTP; both drive the same engine, store and event stream as the dashboard."""
