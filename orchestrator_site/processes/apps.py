from django.apps import AppConfig


class ProcessesConfig(AppConfig):
    name = "orchestrator_site.processes"
    label = "processes"
    verbose_name = "Processes"
