"""The health app's DRF API under ``/api/``: a container's metrics history."""
