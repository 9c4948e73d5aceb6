"""What a fresh Debian 12 lacks, deploy/dev.sh installs: its APT_PACKAGES list is the contract.

Every external program the code, the tests and the deploy scripts run must come from a package in
APT_PACKAGES (or one that such a package depends on), or from a package every Debian root has (a
debootstrap minbase: ESSENTIAL below). Otherwise the suite passes here, where someone once
installed the program by hand, and fails on a fresh machine (as ``pgrep`` did: procps is of
Priority "important", which a minimal root does not have).

Found statically: string literals that are the first element of an argument list given to
subprocess.run/Popen/call/check_call/check_output or os.exec*/os.spawn*p (a list held in a
variable, spread with ``*`` or not, is followed), the first word of each command of a
``shell=True`` string, ``shutil.which("NAME")``, and the commands of deploy/*.sh. The package
shipping a program is what ``dpkg -S`` says for it on this machine, or PACKAGE_OF when it is not
installed here.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("kiosk", "drivers", "offline", "screens", "central", "contracts", "tests")
DEV_SH = ROOT / "deploy" / "dev.sh"
# Scripts that run elsewhere than on the development machine dev.sh sets up.
NOT_ON_THE_MACHINE = {
    "fresh-root-check.sh": "runs on the host that builds the fresh root (and installs debootstrap)",
}

# The packages with programs that debootstrap --variant=minbase bookworm installs (Priority
# "required", apt and what they depend on). Not every "important" one: procps is important, and a
# minimal root lacks it.
ESSENTIAL = frozenset({
    "adduser", "apt", "bash", "bsdutils", "coreutils", "dash", "debconf", "debianutils",
    "diffutils", "dpkg", "e2fsprogs", "findutils", "gpgv", "grep", "gzip", "hostname",
    "init-system-helpers", "libc-bin", "login", "logsave", "mawk", "mount", "ncurses-bin",
    "passwd", "perl-base", "sed", "sysvinit-utils", "tar", "util-linux", "util-linux-extra",
})  # fmt: skip

# The package of a program that is not installed on this machine (or not on PATH, as PostgreSQL's
# initdb), named as APT_PACKAGES would name it.
PACKAGE_OF = {
    "pgrep": "procps", "pkill": "procps", "ps": "procps",
    "Xvfb": "xvfb", "xvfb-run": "xvfb", "xauth": "xauth", "x11vnc": "x11vnc",
    "import": "imagemagick", "convert": "imagemagick", "identify": "imagemagick",
    "initdb": "postgresql", "pg_ctl": "postgresql", "postgres": "postgresql",
    "pcscd": "pcscd", "socat": "socat", "fc-match": "fontconfig", "fc-list": "fontconfig",
    "espeak-ng": "espeak-ng", "spd-say": "speech-dispatcher", "git": "git",
    "runuser": "util-linux", "setsid": "util-linux",
}  # fmt: skip

# Programs run only when present, with a one-line message otherwise.
OPTIONAL = {"sudo": "deploy/dev.sh uses it only when not root, and says so when it is missing"}

RUNNERS = {
    "subprocess": {"run", "Popen", "call", "check_call", "check_output"},
    "os": {
        "execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe",
        "spawnlp", "spawnlpe", "spawnvp", "spawnvpe",
    },
}  # fmt: skip
SHELL_KEYWORDS = frozenset({
    "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
    "in", "function", "select", "time", "!", "[", "[[", "]]", "]", "{", "}", "echo", "printf",
    "read", "cd", "set", "shift", "trap", "wait", "kill", "eval", "exit", "return", "true",
    "false", "local", "export", "declare", "readonly", "source", ".", ":", "exec", "command",
    "test", "type", "unset", "break", "continue", "let", "alias", "ulimit", "umask", "hash",
    "getopts", "pwd", "pushd", "popd", "builtin", "mapfile",
})  # fmt: skip
# Words after which the next word is (also) a command.
WRAPPERS = frozenset({"exec", "command", "sudo", "$sudo", "setsid", "nohup", "env", "timeout"})
LEADING = frozenset({"(", ")", "{", "}", "!", "if", "elif", "while", "until", "then", "do", "else"})


@dataclass(frozen=True)
class Use:
    program: str
    where: str  # path:line, relative to the repository


# --- the Python side ------------------------------------------------------------------------


def _runner(call: ast.Call, imported: dict[str, str]) -> str | None:
    """'subprocess' or 'os' when *call* runs a program, else None."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        module = func.value.id
        return module if func.attr in RUNNERS.get(module, ()) else None
    if isinstance(func, ast.Name) and func.id in imported:
        return imported[func.id]
    return None


def _is_which(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "which"
        and isinstance(func.value, ast.Name)
        and func.value.id == "shutil"
    ) or (isinstance(func, ast.Name) and func.id == "which")


class _Scopes:
    """Assignments to names, by enclosing function (innermost first) and then the module."""

    def __init__(self, tree: ast.Module) -> None:
        self.parent: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node
        self.tree = tree

    def values(self, name: str, at: ast.AST) -> list[ast.expr]:
        scopes: list[ast.AST] = []
        node: ast.AST | None = at
        while node is not None:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                scopes.append(node)
            node = self.parent.get(node)
        scopes.append(self.tree)
        for scope in scopes:
            found = [
                value
                for node in ast.walk(scope)
                for value in _assigned(node, name)
                if self._owner(node) is scope
            ]
            if found:
                return found
        return []

    def _owner(self, node: ast.AST) -> ast.AST:
        up = self.parent.get(node)
        while up is not None and not isinstance(up, ast.FunctionDef | ast.AsyncFunctionDef):
            up = self.parent.get(up)
        return up if up is not None else self.tree


def _assigned(node: ast.AST, name: str) -> list[ast.expr]:
    if isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == name for t in node.targets
    ):
        return [node.value]
    if (
        isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == name
        and node.value is not None
    ):
        return [node.value]
    return []


def _first_words(node: ast.expr, scopes: _Scopes, depth: int = 0) -> tuple[list[str], bool]:
    """The string literals an argument list can start with, and whether it can be empty."""
    if depth > 3:
        return [], False
    if isinstance(node, ast.Name):
        words: list[str] = []
        empty = False
        for value in scopes.values(node.id, node):
            more, can_be_empty = _first_words(value, scopes, depth + 1)
            words += more
            empty |= can_be_empty
        return words, empty
    if not isinstance(node, ast.List | ast.Tuple):
        return [], False
    words = []
    for element in node.elts:
        if isinstance(element, ast.Starred):
            more, can_be_empty = _first_words(element.value, scopes, depth + 1)
            words += more
            if can_be_empty:
                continue  # the next element may be first
            return words, False
        if isinstance(element, ast.Constant) and isinstance(element.value, str):
            words.append(element.value)
        return words, False
    return words, True


def _shell_words(node: ast.expr) -> list[str]:
    """The first word of each command of a shell=True string (f-string parts left out)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "\0"
            for v in node.values
        )
    else:
        return []
    return [
        first
        for command in re.split(r"\|\|?|&&|;|\$\(|`", text)
        if (first := (command.split() or [""])[0]) and "\0" not in first
    ]


def python_uses(path: Path) -> Iterator[Use]:
    text = path.read_text(encoding="utf-8")
    if not re.search(r"subprocess|which|\bexec|spawn", text):
        return  # nothing to parse (and parsing every file would take most of a second)
    tree = ast.parse(text, str(path))
    imported = {
        alias.asname or alias.name: node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in RUNNERS
        for alias in node.names
        if alias.name in RUNNERS[node.module]
    }
    scopes: _Scopes | None = None  # built only for a file that runs programs
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        where = f"{rel}:{node.lineno}"
        if _is_which(node):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                yield Use(first.value, where)
            continue
        runner = _runner(node, imported)
        if runner is None:
            continue
        argv = node.args[0] if node.args else None
        for keyword in node.keywords:
            if keyword.arg == "args":
                argv = keyword.value
        if argv is None:
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        shell = any(
            k.arg == "shell" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in node.keywords
        )
        if shell:
            words = _shell_words(argv)
        elif runner == "os" and isinstance(argv, ast.Constant) and isinstance(argv.value, str):
            words = [argv.value]  # os.exec*(file, ...), os.spawn*p(mode, file, ...) below
        elif runner == "os" and name.startswith("spawn") and len(node.args) > 1:
            words = [
                a.value
                for a in node.args[1:2]
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
        else:
            scopes = scopes or _Scopes(tree)
            words = _first_words(argv, scopes)[0]
        for word in words:
            yield Use(word, where)


# --- the shell side -------------------------------------------------------------------------


def _data_out(line: str) -> str:
    """*line* with quoted text blanked out (it is data, not commands), but for $( ) in "..."."""
    out: list[str] = []
    i, quoted = 0, False
    while i < len(line):
        char = line[i]
        if char == "\\":
            out.append("x")
            i += 2
        elif char == "'" and not quoted:
            end = line.find("'", i + 1)
            out.append("''")
            i = len(line) if end < 0 else end + 1
        elif char == '"':
            quoted = not quoted
            out.append(char)
            i += 1
        elif quoted and line.startswith("$(", i):
            depth, end = 0, i
            for end in range(i + 1, len(line)):
                depth += {"(": 1, ")": -1}.get(line[end], 0)
                if depth == 0:
                    break
            out.append(line[i : end + 1])
            i = end + 1
        else:
            out.append("x" if quoted else char)
            i += 1
    return "".join(out)


def _commands(line: str) -> Iterator[str]:
    """The programs a line of bash runs, roughly: the first word of each simple command."""
    line = _data_out(line)
    line = re.sub(r"\$?\(\(.*?\)\)", "0", line)  # arithmetic: $(( )) and (( ))
    for command in re.split(r"\|\|?|&&|;|\$\(|`|\(|\bthen\b|\bdo\b|\belse\b|!", line):
        words = command.split()
        while words and re.fullmatch(r"\w+=\S*", words[0]):
            words.pop(0)  # VAR=value before a command
        while words:
            word = words.pop(0)
            if word in {"command", "timeout", "env"}:  # their options and arguments
                while words and (words[0].startswith("-") or re.fullmatch(r"[\d.]+", words[0])):
                    words.pop(0)
            if re.fullmatch(r"[A-Za-z_][\w.+-]*|/[\w./+-]+", word) and word not in SHELL_KEYWORDS:
                yield word
            if word not in WRAPPERS and word not in LEADING:
                break


def shell_uses(path: Path) -> Iterator[Use]:
    """The commands of a bash script, roughly: the first word of each simple command, skipping
    the bodies of arrays, here-documents (but for their $( ) when expanded), comments, and the
    functions the script defines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    functions = {m.group(1) for line in lines if (m := re.match(r"\s*([\w-]+)\s*\(\)\s*\{", line))}
    rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    heredoc: str | None = None
    expanded = False
    in_array = False
    for number, raw in enumerate(lines, 1):
        if heredoc is not None:
            if raw.strip() == heredoc:
                heredoc = None
            elif expanded:
                for inner in re.findall(r"\$\(([^()]*)\)", raw):
                    for word in _commands(inner):
                        if word not in functions:
                            yield Use(word, f"{rel}:{number}")
            continue
        line = re.sub(r"(^|\s)#.*", "", raw)
        if in_array:
            in_array = ")" not in line
            continue
        if re.match(r"\s*\w+=\($", line.rstrip()):
            in_array = True
            continue
        if found := re.search(r"<<-?\s*(['\"]?)(\w+)\1", line):
            heredoc, expanded = found.group(2), not found.group(1)
        for word in _commands(line):
            if word not in functions:
                yield Use(word, f"{rel}:{number}")


def apt_packages(script: Path = DEV_SH) -> list[str]:
    """APT_PACKAGES=( ... ) of deploy/dev.sh, comments left out."""
    text = script.read_text(encoding="utf-8")
    found = re.search(r"^APT_PACKAGES=\((.*?)^\)", text, re.S | re.M)
    assert found, f"{script.relative_to(ROOT)}: no APT_PACKAGES=( ... ) list"
    return [
        word for line in found.group(1).splitlines() for word in re.sub(r"#.*", "", line).split()
    ]


# --- Debian's side --------------------------------------------------------------------------


def _owners(paths: set[str]) -> dict[str, set[str]]:
    """dpkg -S for all the paths at once (a path dpkg does not know is left out)."""
    if not paths:
        return {}
    out = subprocess.run(
        ["dpkg", "-S", *sorted(paths)], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    owners: dict[str, set[str]] = {}
    for line in out.splitlines():
        if "diversion" in line.split(":", 1)[0] or ": " not in line:
            continue
        packages, path = line.split(": ", 1)
        owners[path] = {p.strip().split(":")[0] for p in packages.split(",")}
    return owners


def _same_file_names(path: str) -> set[str]:
    """*path* as dpkg may have recorded it: merged-/usr machines list /bin/x or /usr/bin/x."""
    names = {path, os.path.realpath(path)}
    for name in list(names):
        for short, long in (("/bin/", "/usr/bin/"), ("/sbin/", "/usr/sbin/")):
            if name.startswith(short):
                names.add(long + name[len(short) :])
            elif name.startswith(long):
                names.add(short + name[len(long) :])
    return names


def pulled_in(roots: list[str]) -> set[str]:
    """*roots* and what they depend on (Depends, Pre-Depends), as installed on this machine:
    apt installs those even with --no-install-recommends."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package}\t${Status}\t${Provides}\t${Pre-Depends}, ${Depends}\n"],
        capture_output=True, text=True, timeout=30, check=False,
    ).stdout  # fmt: skip
    depends: dict[str, str] = {}
    providers: dict[str, set[str]] = {}
    for line in out.splitlines():
        name, status, provides, deps = [*line.split("\t"), "", "", ""][:4]
        if not status.endswith(" installed"):
            continue
        depends[name] = deps
        for virtual in provides.split(","):
            if virtual.strip():
                providers.setdefault(re.split(r"[\s(:]", virtual.strip())[0], set()).add(name)

    def installed(alternative: str) -> set[str]:
        bare = re.split(r"[\s(:]", alternative.strip())[0]
        return {bare} if bare in depends else providers.get(bare, set())

    seen: set[str] = set()
    todo = list(roots)
    while todo:
        package = todo.pop()
        if package in seen:
            continue
        seen.add(package)
        for group in depends.get(package, "").split(","):
            for alternative in group.split("|"):  # the alternative apt chose is the installed one
                if chosen := installed(alternative):
                    todo += chosen
                    break
    return seen


# --- the checks -----------------------------------------------------------------------------


def all_uses() -> list[Use]:
    uses: list[Use] = []
    for directory in SOURCE_DIRS:
        for path in sorted((ROOT / directory).rglob("*.py")):
            uses += python_uses(path)
    for script in sorted((ROOT / "deploy").glob("*.sh")):
        if script.name not in NOT_ON_THE_MACHINE:
            uses += shell_uses(script)
    return uses


def _outside_the_system(program: str) -> bool:
    """This project's and the virtual environment's own programs: set up by pip, not apt."""
    if "/" in program and not program.startswith("/"):
        return True  # relative: .venv/bin/ruff, deploy/dev.sh
    name = os.path.basename(program)
    if (Path(sys.executable).parent / name).exists():
        return True
    found = shutil.which(program)
    return found is not None and Path(found).resolve().is_relative_to(Path(sys.prefix).resolve())


def missing_from_the_set_up(uses: list[Use], wanted: list[str]) -> list[str]:
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/local/sbin:/usr/sbin:/sbin"])
    programs: dict[str, list[str]] = {}
    for use in uses:
        if use.program not in OPTIONAL and not _outside_the_system(use.program):
            programs.setdefault(use.program, []).append(use.where)
    paths = {
        program: shutil.which(program, path=search) if "/" not in program else program
        for program in programs
    }
    candidates = {p for found in paths.values() if found for p in _same_file_names(found)}
    owners = _owners(candidates)
    allowed = pulled_in(wanted) | set(wanted)
    problems = []
    for program, where in sorted(programs.items()):
        found = paths[program]
        shipped_by = (
            set().union(*(owners.get(p, set()) for p in _same_file_names(found)))
            if found
            else set()
        )
        if not shipped_by and os.path.basename(program) in PACKAGE_OF:
            shipped_by = {PACKAGE_OF[os.path.basename(program)]}
        files = ", ".join(where)
        if not shipped_by:
            problems.append(
                f"{program} (run by {files}): no Debian package ships it here; install it, or "
                "name its package in PACKAGE_OF of tests/unit/test_fresh_machine.py"
            )
        elif not shipped_by & (allowed | ESSENTIAL):
            package = " or ".join(sorted(shipped_by))
            problems.append(
                f"{program} (run by {files}) comes from {package}, which a fresh Debian 12 lacks: "
                "add it to APT_PACKAGES in deploy/dev.sh"
            )
    return problems


needs_dpkg = pytest.mark.skipif(
    shutil.which("dpkg-query") is None, reason="not a Debian system: no dpkg-query"
)


@needs_dpkg
def test_every_program_run_comes_with_the_set_up() -> None:
    problems = missing_from_the_set_up(all_uses(), apt_packages())
    assert not problems, "\n".join(problems)


def test_apt_packages_are_read_from_dev_sh() -> None:
    wanted = apt_packages()
    assert "python3" in wanted and "xvfb" in wanted
    assert not any(w.startswith("#") or "(" in w or ")" in w for w in wanted)


def test_the_scan_finds_each_way_of_running_a_program(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "import os, shutil, subprocess, sys\n"
        "from subprocess import check_output as out\n"
        "PREFIX = ['runuser', '-u', 'postgres', '--']\n"
        "def f(args):\n"
        "    prefix = []\n"
        "    if os.geteuid() == 0:\n"
        "        prefix = PREFIX\n"
        "    subprocess.run([*prefix, 'initdb', *args], check=True)\n"
        "    subprocess.Popen(['pgrep', '-f', 'x'])\n"
        "    subprocess.run(args=('socat', '-'))\n"
        "    out(['fc-match', 'x'])\n"
        "    subprocess.run([sys.executable, '-m', 'kiosk'])\n"
        "    subprocess.run(f'{sys.executable} -m central | head -n 1', shell=True)\n"
        "    shutil.which('pcscd')\n"
        "    os.execvp('xauth', ['xauth'])\n"
    )
    found = {(u.program, int(u.where.rsplit(":", 1)[1])) for u in python_uses(source)}
    assert found == {
        ("runuser", 8), ("initdb", 8), ("pgrep", 9), ("socat", 10), ("fc-match", 11),
        ("head", 13), ("pcscd", 14), ("xauth", 15),
    }  # fmt: skip

    script = tmp_path / "s.sh"
    script.write_text(
        "#!/usr/bin/env bash\n"
        "LIST=(\n  notacommand # comment\n)\n"
        'helper() { grep -q x "$1"; }\n'
        "helper y && setsid Xvfb :1 &\n"
        "x=$(uname -n) # pgrep in a comment\n"
        "cat <<EOF\nnot a command either, but $(id -un) is\nEOF\n"
        "if command -v import >/dev/null; then .venv/bin/kiosk run; fi\n"
        "echo 'sed is quoted' | tr a b\n"
        'echo "need root (or sudo)" "$(dirname "$0")"\n'
    )
    found = {(u.program, int(u.where.rsplit(":", 1)[1])) for u in shell_uses(script)}
    assert found == {
        ("grep", 5), ("setsid", 6), ("Xvfb", 6), ("uname", 7), ("cat", 8), ("id", 9),
        ("import", 11), ("tr", 12), ("dirname", 13),
    }  # fmt: skip


@needs_dpkg
def test_a_program_from_a_package_the_set_up_lacks_is_named_with_its_file() -> None:
    uses = [Use("pgrep", "tests/integration/test_sync.py:234")]
    without = [p for p in apt_packages() if p != "procps"]
    problems = missing_from_the_set_up(uses, without)
    if "procps" in pulled_in(without):
        pytest.skip("another package of the set-up depends on procps here")
    assert len(problems) == 1
    assert problems[0].startswith("pgrep (run by tests/integration/test_sync.py:234)")
    assert "procps" in problems[0]
