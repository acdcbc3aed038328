"""``/readme-image?url=&sig=``: a README's external image, fetched by this index.

Only URLs that a README on this index shows are fetched: the page signs each one
(services/projects/readme_images.py), and an unsigned or altered URL gets a 403 without
any fetch. The image is served under a policy of its own: an SVG opened on its own runs
no script in this site's origin.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from wheelyard.services.projects.image_proxy import ImageProxy, ImageRefused
from wheelyard.services.projects.readme_images import PROXY_PATH, ImageSigner

# Longer than any image address in a README; a longer one is not worth signing or fetching.
MAX_URL_LENGTH = 4096
IMAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
CACHE_CONTROL = "public, max-age=86400"


def readme_image(request: Request) -> Response:
    if request.app.state.settings.readme_images != "proxy":
        raise HTTPException(404, "This index does not proxy README images.")
    url = request.query_params.get("url", "")
    signature = request.query_params.get("sig", "")
    if not url or not signature or len(url) > MAX_URL_LENGTH:
        raise HTTPException(400, "Give the image's address (url) and its signature (sig).")
    signer: ImageSigner = request.app.state.image_signer
    if not signer.verify(url, signature):
        raise HTTPException(403, "This address is not an image of a README on this index.")
    proxy: ImageProxy = request.app.state.image_proxy
    try:
        image = proxy.fetch(url)
    except ImageRefused as refused:
        raise HTTPException(refused.status, str(refused)) from refused
    return Response(
        image.body,
        media_type=image.content_type,
        headers={"Cache-Control": CACHE_CONTROL, "Content-Security-Policy": IMAGE_POLICY},
    )


# A sync view: Starlette runs it in its thread pool, so a slow image host holds a thread
# (for at most the proxy's timeout), not the event loop.
routes: list[BaseRoute] = [Route(PROXY_PATH, readme_image, name="readme-image")]
