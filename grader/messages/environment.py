"""What the grading environment offers students: packages, fonts, self-check findings (issue 11)."""

FONTS: dict[str, dict[str, str]] = {
    "name.missing_glyphs": {
        "en": "no font on the grading machine can draw {chars}: the name shows empty boxes "
        "there until the instructor installs a font that covers these characters",
        "es": "ninguna fuente del equipo de corrección puede dibujar {chars}: el nombre muestra "
        "cuadros vacíos en su lugar hasta que el profesor instale una fuente que cubra esos "
        "caracteres",
    },
}

SELFCHECK: dict[str, dict[str, str]] = {
    "selfcheck.needs": {
        "en": "not checked: needs {steps} to pass first",
        "es": "sin comprobar: antes tiene que pasar {steps}",
    },
    "selfcheck.stopped": {
        "en": "not checked: the check stopped at the problem above",
        "es": "sin comprobar: la comprobación se detuvo en el problema de arriba",
    },
}

PACKAGES: dict[str, dict[str, str]] = {  # grader/worker/packages.py; `{where}` as in diagnoses
    "import_error.missing_module": {
        "en": "Importing {file} failed{where}: `{module}` is not installed where grading runs. "
        "Installed besides Python's standard library: {available}. Use one of these instead, "
        "or remove the import and the code that needs it.",
        "es": "Falló la importación de {file}{where}: `{module}` no está instalado donde se "
        "corrige. Además de la biblioteca estándar de Python hay: {available}. Usa uno de "
        "estos en su lugar, o quita la importación y el código que la necesita.",
    },
}

TEXTS: dict[str, dict[str, str]] = {**FONTS, **SELFCHECK, **PACKAGES}
