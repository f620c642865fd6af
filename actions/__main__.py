"""The action server process: ``python -m actions``.

rasa-sdk's own entry point has no start-up hook; this one registers the actions, warms
up the FAQ index before the first request, and serves on HELPLINE_ACTION_PORT.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio.to_thread


def main() -> None:
    from rasa_sdk.endpoint import create_app
    from rasa_sdk.executor import ActionExecutor

    from actions.knowledge import provider
    from bot.logging_setup import configure_logging
    from bot.settings import get_settings

    settings = get_settings()
    configure_logging(settings.log_level)
    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app(executor, cors_origins=None)

    async def warm_up(*_: object) -> None:
        await provider.get()
        logging.getLogger(__name__).info("FAQ index loaded; action server ready")

    app.register_listener(warm_up, "before_server_start")

    @app.get("/kb/suggest")
    async def suggest(request: Any) -> Any:
        """FAQ answers for the agent console's search-as-you-type (the index lives here)."""
        from sanic import response

        query = (request.args.get("q") or "").strip()[:500]
        if not query:
            return response.json({"error": "q is required"}, status=400)
        kb = await provider.get()
        decision = await anyio.to_thread.run_sync(kb.answer, query)
        suggestions = []
        for candidate in decision.candidates:
            entry = kb.get(candidate.faq_id)
            if entry is not None:
                suggestions.append({"faq_id": entry.id, "question": entry.question,
                                    "answer": entry.answer, "score": round(candidate.score, 4)})
        return response.json({"suggestions": suggestions})
    app.run(
        host="127.0.0.1",
        port=settings.action_port,
        single_process=True,
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
