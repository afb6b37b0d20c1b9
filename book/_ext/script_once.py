"""Emit each script of a page once.

sphinx-thebe 0.3.1 registers its inline configuration script twice under Jupyter Book 1,
so every page declared ``const THEBE_JS_URL`` twice and the browser raised
"Identifier 'THEBE_JS_URL' has already been declared". This drops exact duplicates from
the page's script list (same file or same inline body, same attributes).
"""


def _key(script):
    attributes = getattr(script, "attributes", {}) or {}
    return str(getattr(script, "filename", script) or ""), tuple(sorted((k, str(v)) for k, v in attributes.items()))


def _drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for script in context.get("script_files", []):
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
