"""A Sphinx extension of the book: launch buttons that open notebooks the repository holds.

sphinx-book-theme points a page's Binder and Colab buttons at the page's own source file in the
repository. A chapter's page is built from the executed notebook ``book/notebooks/<name>.ipynb``, which
the runner writes and the repository does not hold, so those links would lead nowhere. This extension
points them at the chapter's paired notebook ``notebooks/<name>.ipynb`` instead
(:mod:`galaxysd.publish`), and removes the launch buttons of a page that has none: a button that leads
nowhere is worse than no button. It is listed in ``_config.yml`` (``sphinx.extra_extensions``).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

#: Where a chapter's page comes from, and where its paired notebook is (both relative to the book root).
EXECUTED = PurePosixPath("book/notebooks")
PAIRED = PurePosixPath("notebooks")


def launch_path(pagename: str, srcdir: str | Path) -> str | None:
    """The repository path the launch buttons of page ``pagename`` open, or None where there is none.

    Examples
    --------
    >>> launch_path("book/notebooks/01_data", ".")  # doctest: +SKIP
    'notebooks/01_data.ipynb'
    """
    page = PurePosixPath(pagename)
    if page.parent != EXECUTED:
        return None
    paired = PAIRED / f"{page.name}.ipynb"
    return str(paired) if (Path(srcdir) / paired).is_file() else None


def _point_launch_buttons(app, pagename, templatename, context, doctree):
    """``html-page-context`` handler run after sphinx-book-theme's (priority 501) has made the buttons."""
    buttons = context.get("header_buttons") or []
    groups = [b for b in buttons if b.get("label") == "launch-buttons"]
    if not groups:
        return
    theme = app.config["html_theme_options"]
    book_relpath = theme.get("path_to_docs", "").strip("/")
    prefix = f"{book_relpath}/" if book_relpath else ""
    built_from = f"{prefix}{pagename}.ipynb"
    target = launch_path(pagename, app.srcdir)
    for group in groups:
        if target is None:
            buttons.remove(group)
            continue
        for button in group.get("buttons", []):
            if "url" in button:
                button["url"] = button["url"].replace(built_from, f"{prefix}{target}")


def setup(app):
    """Register the handler (Sphinx entry point)."""
    app.connect("html-page-context", _point_launch_buttons, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
