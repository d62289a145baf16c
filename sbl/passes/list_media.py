"""``list_media``: every media file a stimulus can show is listable before the run
(:mod:`sbl.listing` states the rule), or the experiment is an error that says why. It runs
after ``inherit``, so a media parameter filled by a condition column is listed too. No file
is read: ``sbl check`` and the page's compiler check the files (:func:`sbl.media.files`),
text runs never need them."""

from __future__ import annotations

from sbl import ir, markup, media
from sbl.source import SblError


def list_media(experiment: ir.Experiment) -> ir.Experiment:
    """Return ``experiment`` unchanged if every media value can be listed and is a media
    file's path, and every ``image(...)`` is where it shows an image; raise SblError listing
    each that is not."""
    misplaced = markup.misplaced_images(experiment)
    if misplaced:
        raise SblError(misplaced)
    media.uses(experiment)
    return experiment
