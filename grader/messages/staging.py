"""staging messages (issue 12); en + es for every id.

What the grader refuses to read in a submission folder (grader/pipeline/staging.py), folder
names it cannot store (grader/pipeline/folders.py), a `student.toml` it will not read, and
notebook cells too deep to convert. Each names the problem and the fix.
"""

_CODE_ONLY_EN = "Submit your code only (submission.py or submission.ipynb and the files it " \
                "needs): no data sets, model weights, virtual environments or caches."  # fmt: skip
_CODE_ONLY_ES = "Entrega solo tu código (submission.py o submission.ipynb y los archivos que " \
                "necesite): sin conjuntos de datos, pesos de modelos, entornos virtuales ni " \
                "cachés."  # fmt: skip
_FOLDER_USED_EN = "; the folder name is used instead"
_FOLDER_USED_ES = "; se usa en su lugar el nombre de la carpeta"

FOLDER: dict[str, dict[str, str]] = {
    "staging.too_many_files": {
        "en": "The submission holds more than {limit:,d} files and folders, so the grader did "
        f"not read it. {_CODE_ONLY_EN}",
        "es": "La entrega contiene más de {limit:,d} archivos y carpetas, así que el corrector "
        f"no la leyó. {_CODE_ONLY_ES}",
    },
    "staging.file_too_large": {
        "en": "{file} is {size:,.1f} MB, more than the {megabytes} MB a whole submission may hold, "
        f"so the grader did not read it. {_CODE_ONLY_EN}",
        "es": "{file} ocupa {size:,.1f} MB, más de los {megabytes} MB que puede ocupar una entrega "
        f"entera, así que el corrector no la leyó. {_CODE_ONLY_ES}",
    },
    "staging.too_deep": {
        "en": "{path} is nested too deeply (at most {depth} folders, with short names). Keep "
        "your files in a shallow folder.",
        "es": "{path} está anidado a demasiada profundidad (como mucho {depth} carpetas, con "
        "nombres cortos). Deja tus archivos en una carpeta poco profunda.",
    },
    "staging.folder_link": {
        "en": "The submission folder is a link (symbolic link), which the grader does not "
        "follow. Put the folder itself in the submissions folder.",
        "es": "La carpeta de la entrega es un enlace (enlace simbólico), que el corrector no "
        "sigue. Pon la carpeta misma en la carpeta de entregas.",
    },
    "staging.link": {
        "en": "{file} is a link (symbolic link), which the grader does not follow. Submit the "
        "file itself, not a link to it.",
        "es": "{file} es un enlace (enlace simbólico), que el corrector no sigue. Entrega el "
        "archivo mismo, no un enlace a él.",
    },
    "staging.not_regular": {
        "en": "{file} is not a regular file (a pipe, device or socket), which the grader does "
        "not read. Submit the file itself.",
        "es": "{file} no es un archivo normal (es una tubería, un dispositivo o un socket), que "
        "el corrector no lee. Entrega el archivo mismo.",
    },
    "staging.converted_too_large": {
        "en": "The module made from {notebook} is {size:,.1f} MB, which brings the submission over "
        "{megabytes} MB. Keep large constants and data out of the notebook's code cells: "
        "submit code only.",
        "es": "El módulo generado a partir de {notebook} ocupa {size:,.1f} MB, con lo que la "
        "entrega pasa de {megabytes} MB. Deja las constantes grandes y los datos fuera de las "
        "celdas de código del cuaderno: entrega solo código.",
    },
    "staging.bad_folder_name": {
        "en": "The submission folder's name ({name}) cannot be used as a file name (too long, "
        "not UTF-8, a control character or a leading dash), so it was not graded: rename the "
        "folder using letters, digits and . _ - (at most {limit} characters), then grade "
        "again. Until then it is stored as {key}.",
        "es": "El nombre de la carpeta de la entrega ({name}) no puede usarse como nombre de "
        "archivo (demasiado largo, no UTF-8, un carácter de control o un guion al principio), "
        "así que no se corrigió: renombra la carpeta usando letras, cifras y . _ - (como mucho "
        "{limit} caracteres) y vuelve a corregir. Hasta entonces se guarda como {key}.",
    },
}

NAME: dict[str, dict[str, str]] = {  # a name warning: the report says what it is about
    "name.toml_not_file": {
        "en": "student.toml is a link or not a regular file, which the grader does not read"
        f"{_FOLDER_USED_EN}. Submit the file itself.",
        "es": "student.toml es un enlace o no es un archivo normal, y el corrector no lo lee"
        f"{_FOLDER_USED_ES}. Entrega el archivo mismo.",
    },
    "name.toml_too_large": {
        "en": f"student.toml is larger than {{kilobytes}} KB{_FOLDER_USED_EN}. It only needs a "
        'name = "..." line.',
        "es": f"student.toml ocupa más de {{kilobytes}} KB{_FOLDER_USED_ES}. Solo necesita una "
        'línea name = "...".',
    },
    "name.toml_too_deep": {
        "en": f"student.toml is nested too deeply to read{_FOLDER_USED_EN}. It only needs a "
        'name = "..." line.',
        "es": f"student.toml está anidado a demasiada profundidad para leerlo{_FOLDER_USED_ES}. "
        'Solo necesita una línea name = "...".',
    },
    "name.toml_unreadable": {
        "en": f"student.toml could not be read ({{error}}){_FOLDER_USED_EN}.",
        "es": f"no se pudo leer student.toml ({{error}}){_FOLDER_USED_ES}.",
    },
}

NOTEBOOK: dict[str, dict[str, str]] = {  # grader/notebook/limits.py and the parser's limits
    "bad_notebook.code_too_large": {
        "en": "The code cells of {filename} hold {size:,.2f} MB of code, more than the {limit} "
        "KB the grader converts. Keep data out of the code cells (load it from a file) and "
        "submit code only.",
        "es": "Las celdas de código de {filename} contienen {size:,.2f} MB de código, más de "
        "los {limit} KB que el corrector convierte. Deja los datos fuera de las celdas de "
        "código (cárgalos de un archivo) y entrega solo código.",
    },
    "bad_notebook.too_many_statements": {
        "en": "{filename} has more than {limit:,d} top-level statements, far more than a "
        "submission needs. Keep data and generated code out of the code cells.",
        "es": "{filename} tiene más de {limit:,d} instrucciones de primer nivel, muchas más de "
        "las que necesita una entrega. Deja los datos y el código generado fuera de las "
        "celdas de código.",
    },
    "bad_notebook.too_much_data": {
        "en": "{filename} holds more data than a notebook's cells and outputs need, so the "
        "grader did not read it. Clear its outputs (Kernel > Restart & Clear Output), save it "
        "and submit it again.",
        "es": "{filename} contiene más datos de los que necesitan las celdas y salidas de un "
        "cuaderno, así que el corrector no lo leyó. Borra sus salidas (Kernel > Restart & "
        "Clear Output), guárdalo y vuelve a entregarlo.",
    },
    "bad_notebook.cell_too_deep": {
        "en": "{filename}: code cell {cell} is nested too deeply for the grader to read (an "
        "expression or block hundreds of levels deep). Split it into simpler statements.",
        "es": "{filename}: la celda de código {cell} está anidada a demasiada profundidad para "
        "que el corrector la lea (una expresión o un bloque con cientos de niveles). Divídela "
        "en instrucciones más sencillas.",
    },
    "bad_notebook.code_too_deep": {
        "en": "{filename} holds code nested too deeply for the grader to read (an expression "
        "or block hundreds of levels deep). Split it into simpler statements.",
        "es": "{filename} contiene código anidado a demasiada profundidad para que el corrector "
        "lo lea (una expresión o un bloque con cientos de niveles). Divídelo en instrucciones "
        "más sencillas.",
    },
}

TEXTS: dict[str, dict[str, str]] = {**FOLDER, **NAME, **NOTEBOOK}
