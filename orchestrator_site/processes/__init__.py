"""What every process records about itself: heartbeats (worker, beat, watcher, sampler) and duration histograms.

It sits on the bottom floor because every app records these; the health app reads them for
``/health/detailed`` and ``/metrics``.
"""
