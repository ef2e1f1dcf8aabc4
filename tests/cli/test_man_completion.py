#!/usr/bin/env python3
"""The man page and the bash completion against the command line they describe (TAP).

    test_man_completion.py SSCMA_BINARY SOURCE_ROOT MAN_PAGE BUILD_DIR

Every command of tools/sscma/main.c's table and every option its parser accepts is in the man page and in the
completion; each command's options in the man page's SYNOPSIS are those of `sscma COMMAND --help`, and the completion
offers them (and none the parser does not know); groff (and man, when installed) render the page without a warning;
the completion gives the expected words for a few command lines; meson installs both files.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SSCMA, ROOT, MAN, BUILD = (os.path.abspath(a) for a in sys.argv[1:5])
MAIN_C = os.path.join(ROOT, 'tools', 'sscma', 'main.c')
COMPLETION = os.path.join(ROOT, 'tools', 'completion', 'sscma.bash')
n_test = 0
failed = 0


def ok(cond, what, detail=''):
    global n_test, failed
    n_test += 1
    print('%s %d - %s' % ('ok' if cond else 'not ok', n_test, what))
    if not cond:
        failed += 1
        for line in str(detail).splitlines():
            print('# ' + line)


def skip(what, why):
    global n_test
    n_test += 1
    print('ok %d - %s # SKIP %s' % (n_test, what, why))


def options_in(text):
    """The options named in a usage text: --long-name and -x."""
    return set(re.findall(r'(?<![\w-])(--[a-z][a-z-]*|-[a-z])\b', text))


main_c = open(MAIN_C).read()
table = main_c[main_c.index('static const cli_command commands[]'):]
table = table[:table.index('};')]
COMMANDS = re.findall(r'\{"(\w+)", cli_\w+', table)
parser = main_c[main_c.index('static int parse_args'):main_c.index('int main(')]
ACCEPTED = set(re.findall(r'strn?cmp\(o, "(-[^"]+)"', parser)) - {'-'}  # the prefix test of unknown options
top = main_c[main_c.index('int main('):]
TOP_LEVEL = set(re.findall(r'strcmp\(argv\[1\], "([^"]+)"\)', top))  # --help -h help --version config

def usage_of(cmd):
    r = subprocess.run([SSCMA, cmd, '--help'], capture_output=True, text=True, timeout=30)
    text = r.stdout.split('\n\n')[0]  # "usage: sscma CMD ..." up to the description
    return r.returncode, text


ok(COMMANDS == ['train', 'eval', 'export', 'infer', 'info', 'prune', 'dataset'], 'main.c\'s command table is read',
   COMMANDS)
ok({'--work-dir', '--cfg-options', '--format', '--precision', '-o', '-q', '-h', '--topk'} <= ACCEPTED,
   'main.c\'s parser options are read', sorted(ACCEPTED))
ok(TOP_LEVEL == {'--help', '-h', 'help', '--version', 'config'}, 'main.c\'s top-level words are read', TOP_LEVEL)

USAGE = {}
for cmd in COMMANDS:
    rc, text = usage_of(cmd)
    USAGE[cmd] = text
    ok(rc == 0 and text.startswith('usage: sscma ' + cmd), 'sscma %s --help prints its usage' % cmd, text)
help_all = subprocess.run([SSCMA, '--help'], capture_output=True, text=True, timeout=30).stdout
config_usage = [line for line in help_all.splitlines() if 'sscma config convert' in line]
ok(len(config_usage) == 1, 'sscma --help lists config convert', help_all)
USAGE['config'] = config_usage[0] if config_usage else ''
for cmd, text in USAGE.items():
    ok(options_in(text) - {'-o'} <= ACCEPTED | {'--strict', '--raw'},
       '%s: its usage names only options the parser accepts' % cmd, options_in(text) - ACCEPTED)

# --- the man page ---------------------------------------------------------------------------------------------------
roff = open(MAN).read()
plain = roff.replace('\\-', '-').replace('\\e', '\\')
ok('@VERSION@' not in roff and re.search(r'^\.TH SSCMA 1 \S+ "libsscma \d+\.\d+\.\d+"', roff, re.M),
   'the built man page carries the version', roff[:400])
version = subprocess.run([SSCMA, '--version'], capture_output=True, text=True).stdout.split()[-1]
ok('"libsscma %s"' % version in roff, 'the man page\'s version is sscma --version\'s (%s)' % version)
synopsis = plain[plain.index('.SH SYNOPSIS'):plain.index('.SH DESCRIPTION')]
entries = [e for e in synopsis.split('.SY sscma')[1:]]
syn = {}
for e in entries:
    first = re.match(r'\s*\.B (\S+)', e)
    name = first.group(1) if first else ''
    syn.setdefault(name, []).append(e)
for cmd in COMMANDS + ['config']:
    ok(cmd in syn, 'the man page\'s SYNOPSIS has sscma %s' % cmd, sorted(syn))
    got = set().union(*(options_in(e.replace('\n', ' ')) for e in syn.get(cmd, [''])))
    want = options_in(USAGE[cmd]) - {'--help', '-h'}
    ok(got == want, 'SYNOPSIS of %s: the options of sscma %s --help' % (cmd, cmd),
       'man only: %s; --help only: %s' % (sorted(got - want), sorted(want - got)))
    ok(re.search(r'^\.SS "sscma %s\b' % cmd, plain, re.M), 'the man page has a section on sscma %s' % cmd)
for opt in sorted(ACCEPTED):
    ok(re.search(r'^\.(?:B|BI|BR|TP|OP)\b.*(?<![\w-])%s\b' % re.escape(opt), plain, re.M),
       'the man page describes %s' % opt)
ok('.SH EXAMPLES' in roff and roff.count('.EX') >= 3 and '.SH EXIT STATUS' in roff,
   'the man page has examples and exit statuses')

if shutil.which('groff'):
    r = subprocess.run(['groff', '-man', '-Tutf8', '-ww', '-z', MAN], capture_output=True, text=True)
    ok(r.returncode == 0 and r.stderr == '', 'groff -man -Tutf8 -ww renders it without a warning', r.stderr)
    r = subprocess.run(['groff', '-man', '-Tutf8', MAN], capture_output=True, text=True)
    out = re.sub(r'.\x08', '', r.stdout)
    ok('sscma export CONFIG CHECKPOINT --format onnx|tflite|c' in out and 'EXIT STATUS' in out,
       'the rendered page reads as the synopsis', out[:600])
else:
    skip('groff renders the page', 'groff is not installed')
if shutil.which('man'):
    r = subprocess.run(['man', '--warnings', '-l', MAN], capture_output=True, text=True,
                       env=dict(os.environ, MANPAGER='cat', PAGER='cat', MANWIDTH='100'))
    ok(r.returncode == 0 and r.stderr == '' and 'sscma train CONFIG' in r.stdout,
       'man --warnings -l renders it without a warning', r.stderr)
else:
    skip('man -l renders the page', 'man is not installed')

# --- the completion -------------------------------------------------------------------------------------------------


def complete(words, cwd=None):
    """The words the completion offers for a command line whose last word is being completed."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _sscma; '
              'printf "%s\\n" "${COMPREPLY[@]}"; complete -p sscma >&2')
    r = subprocess.run(['bash', '--norc', '--noprofile', '-c', script, 'bash', COMPLETION] + words,
                       capture_output=True, text=True, cwd=cwd, timeout=30)
    if r.returncode != 0 or r.stderr.strip() != 'complete -F _sscma sscma':
        return ['<failed: %s>' % r.stderr.strip()]
    return [w for w in r.stdout.splitlines() if w]


ok(sorted(complete(['sscma', ''])) == sorted(COMMANDS + ['config', 'help', '--version', '--help', '-h']),
   'sscma <TAB>: the commands of main.c', complete(['sscma', '']))
ok(complete(['sscma', 'ex']) == ['export'], 'sscma ex<TAB>: export')
for cmd in COMMANDS + ['config']:
    words = ['sscma', cmd] + (['convert'] if cmd == 'config' else []) + ['-']
    offered = set(complete(words))
    want = options_in(USAGE[cmd]) | {'--help', '-h'}
    ok(want <= offered, 'sscma %s -<TAB>: every option of its --help' % cmd, sorted(want - offered))
    extra = offered - ACCEPTED - ({'--strict', '--raw', '--out'} if cmd == 'config' else set())
    ok(not extra, 'sscma %s -<TAB>: no option the parser does not know' % cmd, sorted(extra))
all_offered = set()
for cmd in COMMANDS:
    all_offered |= set(complete(['sscma', cmd, '-']))
ok(ACCEPTED <= all_offered, 'every option of the parser is offered by some command', sorted(ACCEPTED - all_offered))

formats = re.search(r'--format (\S+)', USAGE['export']).group(1).split('|')
ok(complete(['sscma', 'export', 'a.json', 'b.ckpt', '--format', '']) == formats,
   '--format <TAB>: %s, as export --help' % '|'.join(formats))
precisions = re.search(r'--precision (\S+)\]', USAGE['export']).group(1).split('|')
ok(complete(['sscma', 'export', '--precision', '']) == precisions, '--precision <TAB>: ' + '|'.join(precisions))
ok(complete(['sscma', 'export', '--precision', 'i']) == ['int8'], '--precision i<TAB>: int8')
tasks = re.search(r'--task (\S+)\]', USAGE['infer']).group(1).split('|')
ok(complete(['sscma', 'infer', 'm.tflite', '--task', '']) == tasks, '--task <TAB>: ' + '|'.join(tasks))
ok(complete(['sscma', 'eval', 'c.json', '--split', '']) == ['val', 'test'], 'eval --split <TAB>: val test')
ok(complete(['sscma', 'dataset', 'stats', 'c.json', '--split', '']) == ['train', 'val', 'test'],
   'dataset --split <TAB>: train val test')
ok(complete(['sscma', 'dataset', '']) == ['check', 'stats', 'compose'], 'sscma dataset <TAB>: its subcommands')
ok(complete(['sscma', 'config', '']) == ['convert'], 'sscma config <TAB>: convert')
ok(complete(['sscma', 'train', '--threads', '']) == [], '--threads <TAB>: nothing (a number)')
ok(complete(['sscma', 'train', 'c.json', '--cfg-options', 'a=1', '']) == [],
   'after --cfg-options K=V: nothing (the next word is a K=V too)')

with tempfile.TemporaryDirectory() as tmp:
    for f in ('recipe.json', 'epoch_3.ckpt', 'model.tflite', 'photo.jpg', 'shot.PNG', 'notes.txt', 'cfg.py'):
        open(os.path.join(tmp, f), 'w').close()
    os.mkdir(os.path.join(tmp, 'work_dirs'))
    cases = [
        (['sscma', 'train', ''], ['recipe.json', 'work_dirs'], 'train <TAB>: configs and folders'),
        (['sscma', 'export', ''], ['recipe.json', 'work_dirs'], 'export <TAB>: the CONFIG'),
        (['sscma', 'export', 'recipe.json', ''], ['epoch_3.ckpt', 'model.tflite', 'work_dirs'],
         'export CONFIG <TAB>: the CHECKPOINT'),
        (['sscma', 'export', '--format', 'onnx', 'recipe.json', ''], ['epoch_3.ckpt', 'model.tflite', 'work_dirs'],
         'export --format onnx CONFIG <TAB>: option values are not positionals'),
        (['sscma', 'eval', '--cfg-options', 'a=1', 'b=2', '--json', 'recipe.json', ''],
         ['epoch_3.ckpt', 'model.tflite', 'work_dirs'], 'eval --cfg-options K=V K=V --json CONFIG <TAB>'),
        (['sscma', 'infer', 'model.tflite', ''],
         ['epoch_3.ckpt', 'model.tflite', 'photo.jpg', 'recipe.json', 'shot.PNG', 'work_dirs'],
         'infer <TAB>: models and images'),
        (['sscma', 'infer', 'model.tflite', 'photo.jpg', '--draw', ''], ['work_dirs'], '--draw <TAB>: .png files'),
        (['sscma', 'train', 'recipe.json', '--resume', ''], ['epoch_3.ckpt', 'work_dirs'], '--resume <TAB>: .ckpt'),
        (['sscma', 'train', 'recipe.json', '--work-dir', ''], ['work_dirs'], '--work-dir <TAB>: folders'),
        (['sscma', 'config', 'convert', ''], ['cfg.py', 'work_dirs'], 'config convert <TAB>: .py files'),
        (['sscma', 'info', 'm'], ['model.tflite'], 'info m<TAB>: model.tflite'),
        (['sscma', 'prune', 'recipe.json', ''], ['epoch_3.ckpt', 'work_dirs'], 'prune CONFIG <TAB>: .ckpt'),
        (['sscma', 'prune', 'recipe.json', 'epoch_3.ckpt', '--criterion', 'b'], ['bn_scale'],
         '--criterion b<TAB>: bn_scale'),
    ]
    for words, want, what in cases:
        got = sorted(complete(words, cwd=tmp))
        ok(got == sorted(want), what, 'got %s' % got)

# --- installation ---------------------------------------------------------------------------------------------------
r = subprocess.run(['meson', 'introspect', '--installed', BUILD], capture_output=True, text=True)
installed = json.loads(r.stdout or '{}').values()
ok(any(p.endswith('/man1/sscma.1') for p in installed), 'meson installs the man page into man1', sorted(installed))
ok(any(p.endswith('/bash-completion/completions/sscma') for p in installed),
   'meson installs the completion as bash-completion/completions/sscma', sorted(installed))

print('1..%d' % n_test)
sys.exit(1 if failed else 0)
