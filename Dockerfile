# The image docker-compose.yaml runs: Airflow 3.3.2 with this project installed, so that the
# provider (connection types, hooks) is known to the api-server and the scheduler alike.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root requirements.lock pyproject.toml README.md /opt/stock-sync/
COPY --chown=airflow:root plugins /opt/stock-sync/plugins
COPY --chown=airflow:root include /opt/stock-sync/include
COPY --chown=airflow:root sandbox /opt/stock-sync/sandbox
RUN pip install --no-cache-dir "apache-airflow==3.3.2" -r /opt/stock-sync/requirements.lock \
 && pip install --no-cache-dir --no-deps "/opt/stock-sync[celery]"
