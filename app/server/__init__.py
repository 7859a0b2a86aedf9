"""The REST service. A server builds every model of the contract up front (see
`app.domain.fields.build_models_now`) before any route module defines its request bodies."""

from app.domain.fields import build_models_now

build_models_now()
