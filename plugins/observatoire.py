"""The "Observatoire" page in the Airflow UI: a FastAPI app under /observatoire and a navigation entry.

Wiring only: the page and its data are etl/ops/page.py and etl/ops/observatory.py.
"""

from airflow.plugins_manager import AirflowPlugin

from etl.ops.page import create_app


class ObservatoirePlugin(AirflowPlugin):
    name = "observatoire"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/observatoire", "name": "Observatoire QPV"}]
    external_views = [
        {"name": "Observatoire", "href": "observatoire/", "destination": "nav", "url_route": "observatoire"}
    ]
