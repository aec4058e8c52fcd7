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

ISOLATION: dict[str, dict[str, str]] = {  # grader/sandbox/causes.py, for the instructor
    "isolation.bwrap_missing": {
        "en": "bubblewrap is not installed. Fix: `apt-get install bubblewrap`.",
        "es": "bubblewrap no está instalado. Solución: `apt-get install bubblewrap`.",
    },
    "isolation.unreachable": {
        "en": "the child uid {uid} cannot reach {path}: the folder {folder} (mode {mode}) does "
        "not let other users through. Fix: make the virtual environment from a Python outside "
        "that folder (e.g. `/usr/bin/python3 -m venv /opt/grader-venv`), or run "
        "`chmod o+x {folder}`.",
        "es": "el uid de los hijos {uid} no puede llegar a {path}: la carpeta {folder} (modo "
        "{mode}) no deja pasar a otros usuarios. Solución: crea el entorno virtual con un "
        "Python fuera de esa carpeta (p. ej. `/usr/bin/python3 -m venv /opt/grader-venv`), o "
        "ejecuta `chmod o+x {folder}`.",
    },
    "isolation.userns_disabled": {
        "en": "user namespaces are disabled for unprivileged users (sysctl {sysctl} = 0; bwrap "
        "said: {said}). Fix: `sysctl -w {sysctl}={allowing}`, and the same setting in a file "
        "under /etc/sysctl.d/ to keep it after a reboot.",
        "es": "los espacios de nombres de usuario están desactivados para usuarios sin "
        "privilegios (sysctl {sysctl} = 0; bwrap dijo: {said}). Solución: `sysctl -w "
        "{sysctl}={allowing}`, y el mismo ajuste en un fichero de /etc/sysctl.d/ para "
        "conservarlo tras reiniciar.",
    },
    "isolation.userns_apparmor": {
        "en": "AppArmor restricts unprivileged user namespaces ({sysctl} = 1, as on Ubuntu "
        "24.04; bwrap said: {said}). Fix: an AppArmor profile that lets bwrap create them, "
        "e.g. /etc/apparmor.d/bwrap holding `profile bwrap /usr/bin/bwrap flags=(unconfined) "
        "{{ userns, }}` (after `abi <abi/4.0>,`), loaded with `apparmor_parser "
        "-r /etc/apparmor.d/bwrap`; or `sysctl -w {sysctl}=0` (for every program).",
        "es": "AppArmor restringe los espacios de nombres de usuario sin privilegios ({sysctl} "
        "= 1, como en Ubuntu 24.04; bwrap dijo: {said}). Solución: un perfil de AppArmor que "
        "permita a bwrap crearlos, p. ej. /etc/apparmor.d/bwrap con `profile bwrap /usr/bin/bwrap "
        "flags=(unconfined) {{ userns, }}` (tras `abi <abi/4.0>,`), cargado con "
        "`apparmor_parser -r /etc/apparmor.d/bwrap`; o `sysctl -w {sysctl}=0` "
        "(para todos los programas).",
    },
    "isolation.landlock_absent": {
        "en": "this kernel ({kernel}) offers no Landlock: it needs Linux 5.13 or later with "
        "`landlock` among its active security modules. Fix: boot a newer kernel, or add "
        "`landlock` to the `lsm=` kernel parameter.",
        "es": "este núcleo ({kernel}) no ofrece Landlock: hace falta Linux 5.13 o posterior "
        "con `landlock` entre sus módulos de seguridad activos. Solución: arranca un núcleo "
        "más reciente, o añade `landlock` al parámetro del núcleo `lsm=`.",
    },
    "isolation.landlock_old": {
        "en": "Landlock ABI {abi} (kernel {kernel}) confines files but cannot deny TCP "
        "connections, which needs ABI 4 (Linux 6.7). Fix: a newer kernel, or make bubblewrap "
        "work (it gives children no network at all).",
        "es": "Landlock ABI {abi} (núcleo {kernel}) limita los ficheros pero no puede impedir "
        "conexiones TCP, lo que requiere ABI 4 (Linux 6.7). Solución: un núcleo más reciente, "
        "o que funcione bubblewrap (que no da ninguna red a los hijos).",
    },
    "isolation.level_failed": {
        "en": "the {level} probe could not start Python as {who}: {said}",
        "es": "la prueba de {level} no pudo arrancar Python como {who}: {said}",
    },
    "isolation.none_works": {
        "en": "No isolation level can start the grader's Python here, so nothing is graded:\n"
        "{causes}\nFix a cause above, then run `python -m grader doctor` again.",
        "es": "Ningún nivel de aislamiento puede arrancar aquí el Python del corrector, así que "
        "no se corrige nada:\n{causes}\nCorrige una causa de arriba y vuelve a ejecutar "
        "`python -m grader doctor`.",
    },
    "isolation.below_minimum": {
        "en": "The strongest isolation level that works here is {found}, below the allowed "
        "minimum {minimum}, so nothing is graded. Why each stronger level does not work:\n"
        "{causes}\nFix a cause above, or allow {found} (at rlimits a submission can reach the "
        'network) with `--min-isolation {found}` or `min_isolation = "{found}"` in '
        "assignment.toml.",
        "es": "El nivel de aislamiento más fuerte que funciona aquí es {found}, por debajo del "
        "mínimo permitido {minimum}, así que no se corrige nada. Por qué no funciona cada nivel "
        "más fuerte:\n{causes}\nCorrige una causa de arriba, o permite {found} (con rlimits "
        "una entrega puede llegar a la red) con `--min-isolation {found}` o `min_isolation = "
        '"{found}"` en assignment.toml.',
    },
    "isolation.forced_below": {
        "en": "--isolation {level} is below the allowed minimum isolation {minimum}. To grade "
        "at {level} anyway, add `--min-isolation {level}` (or set `min_isolation = "
        '"{level}"` in assignment.toml).',
        "es": "--isolation {level} está por debajo del aislamiento mínimo permitido {minimum}. "
        "Para corregir con {level} de todos modos, añade `--min-isolation {level}` (o pon "
        '`min_isolation = "{level}"` en assignment.toml).',
    },
}

TEXTS: dict[str, dict[str, str]] = {**FONTS, **SELFCHECK, **PACKAGES, **INTERPRETER, **ISOLATION}
