"""``sbl cache``: where sbl keeps models converted from GGUF, and how to empty it."""

from __future__ import annotations

import click

from sbl.commands import reports_errors


@click.group()
def cache() -> None:
    """Show, check or empty sbl's model cache. A .gguf model (such as smollm2) is
    dequantised once, on first use, and kept there as safetensors, so later loads take
    seconds; each entry is checked against its manifest before use (its files are hashed
    again whenever their size, inode, mtime or ctime changed) and rebuilt if it changed. It
    also remembers what a first run found out about the installed transformers
    (remembered/probes.json). The cache lives in $SBL_CACHE_DIR, else $XDG_CACHE_HOME/sbl, else
    ~/.cache/sbl; removing it is always safe.

    \b
    Examples:
      sbl cache info
      sbl cache verify
      sbl cache clear
    """


@cache.command()
@reports_errors
def info() -> None:
    """List the cached models: source file, size, transformers version, and whether each is
    sound (every file matches its manifest)."""
    from sbl.participants import modelcache

    paths = modelcache.entries()
    click.echo(f"model cache: {modelcache.models_dir()}")
    total = 0
    for path in paths:
        entry = modelcache.read_entry(path)
        if entry is None:
            click.echo(f"  {path.name}: no readable manifest (rebuilt when next used)")
            continue
        total += entry.size
        problem = entry.problem()
        m = entry.manifest
        click.echo(f"  {m.get('source', '?')}: {entry.size / 1e6:.0f} MB, transformers "
                   f"{m.get('transformers', '?')}, made {m.get('created', '?')}, "
                   + ("sound" if problem is None else f"not used: {problem}"))
    click.echo(f"{len(paths)} entr{'y' if len(paths) == 1 else 'ies'}, {total / 1e6:.0f} MB")


@cache.command()
@reports_errors
def verify() -> None:
    """Hash every file of every cached model against its manifest, whatever its stat says,
    and remove the entries that do not match (they are converted again when next used)."""
    from sbl.participants import modelcache

    paths = modelcache.entries()
    removed = 0
    for path in paths:
        entry = modelcache.read_entry(path)
        problem = "no readable manifest" if entry is None else entry.problem(rehash=True)
        click.echo(f"  {path.name}: " + ("sound" if problem is None else f"removed: {problem}"))
        if problem is not None:
            modelcache.remove(path)
            removed += 1
    click.echo(f"{len(paths)} checked, {removed} removed, in {modelcache.models_dir()}")


@cache.command()
@reports_errors
def clear() -> None:
    """Remove every cached model (each is converted again when next used) and what was
    remembered about the installed transformers."""
    from sbl.participants import modelcache

    count, size = modelcache.clear()
    click.echo(f"removed {count} entr{'y' if count == 1 else 'ies'} ({size / 1e6:.0f} MB) "
               f"from {modelcache.models_dir()}")
