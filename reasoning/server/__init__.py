"""`reason serve`: an OpenAI-compatible HTTP server over a local model (FastAPI + uvicorn).

create_app(model, ServerConfig(...)) builds the app; one worker thread owns the model and batches
requests that arrive together (batcher.py). Endpoints: /v1/models, /v1/completions,
/v1/chat/completions (both streaming), /tokenize, /detokenize, /tokenizer_info, /health, /stats.
"""

from reasoning.server.app import create_app
from reasoning.server.batcher import BatchConfig
from reasoning.server.service import ServerConfig

__all__ = ["BatchConfig", "ServerConfig", "create_app"]
