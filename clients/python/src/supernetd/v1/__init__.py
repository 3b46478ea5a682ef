"""Generated from proto/supernetd/v1 by clients/generate.sh; do not edit."""
