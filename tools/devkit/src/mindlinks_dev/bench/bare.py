"""The floor of a service process: uvicorn serving one bare FastAPI route.
Started by ``processes.start_bare`` exactly as the runner starts a service."""

from __future__ import annotations

from fastapi import FastAPI


def create() -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    return app
