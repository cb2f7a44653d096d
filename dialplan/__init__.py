"""The FastAGI routing service Asterisk calls: where does this call go, and why."""
