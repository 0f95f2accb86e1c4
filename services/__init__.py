"""Use cases between the edges (HTTP, FastAGI, speech) and the parts below (storage, telephony)."""
