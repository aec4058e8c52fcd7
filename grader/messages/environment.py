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

INTERPRETER: dict[str, dict[str, str]] = {  # grader/sandbox/reach.py, for the instructor
    "environment.interpreter_unreachable": {
        "en": "Children run as the throw-away uid {uid}, which cannot reach {path}: the folder "
        "{folder} is not searchable by other users, so no sandboxed child could start Python. "
        "Move the virtual environment (and the grader) to a folder every user may enter, for "
        "example under /opt, or run `chmod o+x {folder}` (and on any parent folder that "
        "still blocks it); then run `python -m grader doctor` again.",
        "es": "Los procesos hijos se ejecutan como el uid desechable {uid}, que no puede llegar "
        "a {path}: la carpeta {folder} no es accesible para otros usuarios, así que ningún "
        "hijo aislado podría arrancar Python. Mueve el entorno virtual (y el corrector) a una "
        "carpeta en la que pueda entrar cualquier usuario, por ejemplo bajo /opt, o ejecuta "
        "`chmod o+x {folder}` (y en cada carpeta superior que aún lo impida); después vuelve "
        "a ejecutar `python -m grader doctor`.",
    },
    "environment.no_level": {
        "en": "No isolation level could start {python} as uid {uid}: {reason}. Check that this "
        "interpreter runs for that uid (`sudo -u '#{uid}' {python} -c 'import numpy'`), then "
        "run `python -m grader doctor` again.",
        "es": "Ningún nivel de aislamiento pudo arrancar {python} como uid {uid}: {reason}. "
        "Comprueba que ese intérprete funciona para ese uid (`sudo -u '#{uid}' {python} -c "
        "'import numpy'`) y vuelve a ejecutar `python -m grader doctor`.",
    },
}

TEXTS: dict[str, dict[str, str]] = {**FONTS, **SELFCHECK, **PACKAGES, **INTERPRETER}
