#!/usr/bin/env python3
"""sscma-config-convert: an SSCMA (mmengine) Python config file to a libsscma JSON config, without running it.

    sscma config convert FILE.py [-o OUT.json] [--strict]

The file is read with Python's `ast` module and evaluated by a small interpreter that knows a fixed list of
statement and expression kinds (docs/coming-from-sscma.md, "Converting a Python config"): assignments, literals,
names bound earlier in the file or by its `_base_` files, dict(...) / list / tuple / set displays, arithmetic,
comparisons, conditional expressions, string concatenation and formatting on known values, subscripts,
`if` statements on known values, list.append/extend/insert/pop and dict.update/merge (mmengine's: recursive) on
the file's own values, imports (a name imported
from a module stands for its type name, as mmengine's pure-Python configs use classes), `_base_` chains (old style,
with `_delete_=True` and `{{_base_.x}}`) and `with read_base(): from .base import *` (new style). Anything else
is refused with the file, line and column. Nothing in the file is executed, imported or opened, except the
`_base_` files it names.

The evaluated config (mmengine's merge of the bases and the file) is then brought to libsscma's form: scopes stay
(libsscma accepts `mmdet.` etc.), model.input_size is taken from the file's height/width (or imgsz), and every key
libsscma does not support is dropped with a warning on stderr. Exit status: 0; 1 when the file is refused; 2 for a
usage error; 3 with --strict when a key was dropped.
"""

import argparse
import ast
import json
import math
import os
import re
import stat
import sys

MAX_BASE_DEPTH = 16
MAX_FILE_BYTES = 1 << 20
MAX_NODES = 200000  # expression nodes evaluated per file chain
MAX_DEPTH = 100  # expression nesting
MAX_SEQUENCE = 100000  # items in a list, characters in a string
MAX_INT_BITS = 128
MAX_WALK = 2000000  # values visited when merging and writing: shared sub-values (a = [a, a]) count each time
_walked = [0]


def _walk(where):
    _walked[0] += 1
    if _walked[0] > MAX_WALK:
        raise ConfigError('%s: the values expand to more than %d items' % (where, MAX_WALK))


class ConfigError(Exception):
    """A refused input: the message names the file and position."""


class TypeRef(str):
    """A name imported from a module (`from sscma.models import Fomo`): it stands for its type name."""


class ModuleRef:
    """An imported module (`import torch`): its attributes are type names."""

    def __init__(self, name):
        self.name = name


class BaseRef:
    """`_base_` inside a file: `_base_.x` reads the bases' value of x."""

    def __init__(self, values):
        self.values = values


def _where(path, node):
    return '%s:%d:%d' % (path, getattr(node, 'lineno', 0), getattr(node, 'col_offset', -1) + 1)


class Evaluator:
    """Evaluates one file's statements in a namespace; the bases' values are visible after the file's own."""

    def __init__(self, path, base_values, loader):
        self.path = path
        self.base = base_values
        self.loader = loader
        self.ns = {}
        self.imported = set()
        self.nodes = 0

    def fail(self, node, msg):
        raise ConfigError('%s: %s' % (_where(self.path, node), msg))

    # ----- statements
    def run(self, tree):
        for stmt in tree.body:
            self.stmt(stmt, top=True)

    def stmt(self, s, top=False):
        if isinstance(s, ast.Assign):
            value = self.expr(s.value)
            for target in s.targets:
                self.assign(target, value)
        elif isinstance(s, ast.AugAssign):
            if not isinstance(s.target, ast.Name):
                self.fail(s, 'augmented assignment to something other than a name')
            cur = self.lookup(s.target, s.target.id)
            self.assign(s.target, self.binop(s, s.op, cur, self.expr(s.value)))
        elif isinstance(s, ast.Expr):
            if isinstance(s.value, ast.Constant) and isinstance(s.value.value, str):
                return  # a docstring
            if isinstance(s.value, ast.Call):
                self.method_call(s.value)
                return
            self.fail(s, 'an expression statement other than a list method call')
        elif isinstance(s, ast.If):
            branch = s.body if self.truth(s.test) else s.orelse
            for b in branch:
                self.stmt(b)
        elif isinstance(s, ast.Pass):
            pass
        elif isinstance(s, (ast.Import, ast.ImportFrom)) and top:
            self.import_(s)
        elif isinstance(s, ast.With) and top:
            self.read_base(s)
        else:
            self.fail(s, '%s statements are not allowed in a config (only assignments, if, imports and '
                      'read_base)' % type(s).__name__)

    def import_(self, s):
        if isinstance(s, ast.Import):
            for alias in s.names:
                if alias.asname is None and '.' in alias.name:
                    top = alias.name.split('.')[0]
                    self.bind_import(top, ModuleRef(top))
                else:
                    self.bind_import(alias.asname or alias.name, ModuleRef(alias.name))
            return
        if s.level:
            self.fail(s, 'a relative import outside "with read_base():"')
        for alias in s.names:
            if alias.name == '*':
                self.fail(s, '"from %s import *" outside "with read_base():"' % s.module)
            self.bind_import(alias.asname or alias.name, TypeRef(alias.name))

    def bind_import(self, name, value):
        self.ns[name] = value
        self.imported.add(name)

    def read_base(self, s):
        ok = (len(s.items) == 1 and isinstance(s.items[0].context_expr, ast.Call)
              and isinstance(s.items[0].context_expr.func, ast.Name)
              and s.items[0].context_expr.func.id == 'read_base' and not s.items[0].context_expr.args)
        if not ok:
            self.fail(s, 'a "with" statement other than "with read_base():"')
        for imp in s.body:
            if not isinstance(imp, ast.ImportFrom) or imp.level == 0:
                self.fail(imp, 'only relative "from .file import ..." inside read_base()')
            parts = ['..'] * (imp.level - 1) + (imp.module.split('.') if imp.module else [])
            rel = os.path.join(*parts) + '.py' if parts else None
            if rel is None:
                self.fail(imp, 'read_base() import without a module')
            values = self.loader(rel, self.path, imp)
            for alias in imp.names:
                if alias.name == '*':
                    for k, v in values.items():
                        if not k.startswith('_'):
                            self.ns[k] = v
                elif alias.name in values:
                    self.ns[alias.asname or alias.name] = values[alias.name]
                else:
                    self.fail(imp, "'%s' is not defined in %s" % (alias.name, rel))

    def assign(self, target, value):
        if isinstance(target, ast.Name):
            if target.id.startswith('__'):
                self.fail(target, "a name starting with '__' ('%s')" % target.id)
            self.ns[target.id] = value
            self.imported.discard(target.id)
        elif isinstance(target, ast.Subscript):
            obj = self.expr(target.value)
            key = self.expr(target.slice)
            if isinstance(obj, dict) and isinstance(key, str):
                obj[key] = value
            elif isinstance(obj, list) and isinstance(key, int) and not isinstance(key, bool) \
                    and -len(obj) <= key < len(obj):
                obj[key] = value
            else:
                self.fail(target, 'assignment to a subscript of something other than a dict or list')
        elif isinstance(target, ast.Attribute) and not target.attr.startswith('_'):
            obj = self.expr(target.value)  # mmengine's ConfigDict: cfg.key = value
            if not isinstance(obj, dict):
                self.fail(target, "assignment to attribute '%s' of something other than a dict" % target.attr)
            obj[target.attr] = value
        elif isinstance(target, (ast.Tuple, ast.List)):
            if not isinstance(value, (list, tuple)) or len(value) != len(target.elts):
                self.fail(target, 'cannot unpack the value into %d names' % len(target.elts))
            for t, v in zip(target.elts, value):
                self.assign(t, v)
        else:
            self.fail(target, 'assignment to a %s' % type(target).__name__)

    LIST_METHODS = {'append': (1, 1), 'extend': (1, 1), 'insert': (2, 2), 'pop': (0, 1)}

    def method_call(self, call):
        """NAME.append/extend/insert/pop(...) on a list, NAME.update(...) on a dict (NAME or NAME['k']...)."""
        f = call.func
        recv = f.value if isinstance(f, ast.Attribute) else None
        while isinstance(recv, ast.Subscript):
            recv = recv.value
        if not isinstance(recv, ast.Name) or f.attr not in self.LIST_METHODS and f.attr not in ('update', 'merge'):
            self.fail(call, 'a call statement other than NAME.append/extend/insert/pop(...) on a list or '
                      'NAME.update/merge(...) on a dict')
        obj = self.expr(f.value)
        if f.attr in ('update', 'merge'):
            if not isinstance(obj, dict):
                self.fail(call, '%s() of something other than a dict' % f.attr)
            other = self.call(ast.Call(func=ast.Name(id='dict'), args=call.args, keywords=call.keywords,
                                       lineno=call.lineno, col_offset=call.col_offset), 1)
            if f.attr == 'update':
                self.update(obj, other)
            else:  # mmengine's ConfigDict.merge: the _base_ rule, _delete_ included
                merged = strip_delete(other, self.path) if other.get('_delete_') else merge(obj, other, self.path)
                obj.clear()
                obj.update(merged)
            return
        if not isinstance(obj, list):
            self.fail(call, "'%s' is not a list" % ast.unparse(f.value))
        if call.keywords:
            self.fail(call, 'keyword arguments to list.%s' % f.attr)
        args = [self.expr(a) for a in call.args]
        lo, hi = self.LIST_METHODS[f.attr]
        if not lo <= len(args) <= hi:
            self.fail(call, 'list.%s takes %d..%d arguments' % (f.attr, lo, hi))
        if f.attr in ('insert', 'pop') and args and not self.is_int(args[0]):
            self.fail(call, 'list.%s: the index must be an integer' % f.attr)
        if f.attr == 'extend' and not isinstance(args[0], (list, tuple)):
            self.fail(call, 'list.extend: the argument must be a list or tuple')
        if f.attr == 'pop' and (not obj or args and not -len(obj) <= args[0] < len(obj)):
            self.fail(call, 'pop from an empty list or out of range')
        if f.attr in ('append', 'insert', 'extend'):
            self.check_size(call, len(obj) + (len(args[0]) if f.attr == 'extend' else 1))
        getattr(obj, f.attr)(*args)

    def update(self, obj, other):
        """mmengine's ConfigDict.update: dicts in both merge key by key, anything else replaces."""
        for k, v in other.items():
            _walk(self.path)
            if isinstance(v, dict) and isinstance(obj.get(k), dict):
                self.update(obj[k], v)
            else:
                obj[k] = v

    # ----- expressions
    @staticmethod
    def is_int(v):
        return isinstance(v, int) and not isinstance(v, bool)

    def check_size(self, node, n):
        if n > MAX_SEQUENCE:
            self.fail(node, 'a value longer than %d items' % MAX_SEQUENCE)

    def check_number(self, node, v):
        if self.is_int(v) and v.bit_length() > MAX_INT_BITS:
            self.fail(node, 'an integer larger than 2**%d' % MAX_INT_BITS)
        if isinstance(v, float) and not math.isfinite(v):
            self.fail(node, 'a number that is not finite')
        if isinstance(v, (str, list, tuple)):
            self.check_size(node, len(v))
        return v

    def lookup(self, node, name):
        if name in self.ns:
            return self.ns[name]
        if name in self.base:
            return self.base[name]
        if name in ('True', 'False', 'None'):
            return {'True': True, 'False': False, 'None': None}[name]
        self.fail(node, "name '%s' is not defined (only names bound earlier in the file or by its _base_ "
                  "files)" % name)

    def truth(self, node):
        v = self.expr(node)
        if isinstance(v, (ModuleRef, BaseRef)):
            self.fail(node, 'the truth of a module')
        return bool(v)

    def expr(self, node, depth=0):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.fail(node, 'more than %d expression nodes' % MAX_NODES)
        if depth > MAX_DEPTH:
            self.fail(node, 'expressions nested deeper than %d' % MAX_DEPTH)
        d = depth + 1
        if isinstance(node, ast.Constant):
            v = node.value
            if v is None or isinstance(v, (bool, int, float, str)):
                return self.check_number(node, v)
            self.fail(node, 'a %s literal' % type(v).__name__)
        if isinstance(node, ast.Name):
            return self.lookup(node, node.id)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            out = []
            for e in node.elts:
                if isinstance(e, ast.Starred):
                    v = self.expr(e.value, d)
                    if not isinstance(v, (list, tuple)):
                        self.fail(e, '*unpacking of something other than a list or tuple')
                    out.extend(v)
                else:
                    out.append(self.expr(e, d))
                self.check_size(node, len(out))
            if isinstance(node, ast.Tuple):
                return tuple(out)
            if isinstance(node, ast.Set):
                uniq = []
                for v in out:
                    if isinstance(v, (list, dict)):
                        self.fail(node, 'a set of lists or dicts')
                    if v not in uniq:
                        uniq.append(v)
                return tuple(uniq)
            return out
        if isinstance(node, ast.Dict):
            out = {}
            for k, v in zip(node.keys, node.values):
                if k is None:  # {**other}
                    other = self.expr(v, d)
                    if not isinstance(other, dict):
                        self.fail(v, '** of something other than a dict')
                    out.update(other)
                    continue
                key = self.expr(k, d)
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    self.fail(k, 'a dict key that is not a string or an integer')
                out[str(key)] = self.expr(v, d)
            return out
        if isinstance(node, ast.Call):
            return self.call(node, d)
        if isinstance(node, ast.BinOp):
            return self.binop(node, node.op, self.expr(node.left, d), self.expr(node.right, d))
        if isinstance(node, ast.UnaryOp):
            v = self.expr(node.operand, d)
            if isinstance(node.op, ast.Not):
                return not v
            if not isinstance(v, (int, float)) or isinstance(v, bool) and isinstance(node.op, ast.Invert):
                self.fail(node, 'a unary operator on a %s' % type(v).__name__)
            if isinstance(node.op, ast.USub):
                return -v
            if isinstance(node.op, ast.UAdd):
                return +v
            if isinstance(node.op, ast.Invert) and self.is_int(v):
                return ~v
            self.fail(node, 'this unary operator')
        if isinstance(node, ast.BoolOp):
            v = None
            for e in node.values:
                v = self.expr(e, d)
                if isinstance(node.op, ast.And) and not v or isinstance(node.op, ast.Or) and v:
                    return v
            return v
        if isinstance(node, ast.Compare):
            left = self.expr(node.left, d)
            for op, right_node in zip(node.ops, node.comparators):
                right = self.expr(right_node, d)
                if not self.compare(node, op, left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.expr(node.body, d) if self.truth(node.test) else self.expr(node.orelse, d)
        if isinstance(node, ast.Subscript):
            return self.subscript(node, d)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, d)
        if isinstance(node, ast.JoinedStr):
            parts = []
            for p in node.values:
                if isinstance(p, ast.Constant):
                    parts.append(p.value)
                    continue
                v = self.expr(p.value, d)
                spec = ''
                if p.format_spec is not None:
                    spec = self.expr(p.format_spec, d)
                    if not re.fullmatch(r'[<>^=]?[+-]?0?\d{0,2}(\.\d{1,2})?[bdeEfFgGsx%]?', spec):
                        self.fail(p, "format spec '%s' is not allowed" % spec)
                if p.conversion not in (-1, ord('s'), ord('r')) or not isinstance(v, (str, int, float, bool)):
                    self.fail(p, 'an f-string field that is not a string or a number')
                parts.append(format(str(v) if p.conversion == ord('s') else repr(v) if p.conversion == ord('r')
                                    else v, spec))
            return self.check_number(node, ''.join(parts))
        self.fail(node, '%s expressions are not allowed in a config' % type(node).__name__)

    PURE = {'len', 'min', 'max', 'abs', 'int', 'float', 'str', 'bool', 'round'}

    def call(self, node, d):
        f = node.func
        allowed = ('dict', 'list', 'tuple', 'set') + tuple(sorted(self.PURE))
        if not isinstance(f, ast.Name):
            self.fail(node, 'a call of something other than %s' % ', '.join(allowed))
        if f.id not in allowed or f.id in self.ns:
            self.fail(node, "a call of '%s' (only %s)" % (f.id, ', '.join(allowed)))
        args = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                v = self.expr(a.value, d)
                if not isinstance(v, (list, tuple)):
                    self.fail(a, '*unpacking of something other than a list or tuple')
                args.extend(v)
            else:
                args.append(self.expr(a, d))
        if f.id == 'dict':
            out = {}
            if len(args) > 1 or args and not isinstance(args[0], dict):
                self.fail(node, 'dict() takes keyword arguments or one dict')
            if args:
                out.update(args[0])
            for kw in node.keywords:
                v = self.expr(kw.value, d)
                if kw.arg is None:
                    if not isinstance(v, dict):
                        self.fail(kw.value, '** of something other than a dict')
                    out.update(v)
                else:
                    out[kw.arg] = v
            return out
        if node.keywords:
            self.fail(node, '%s() with keyword arguments' % f.id)
        if f.id in ('list', 'tuple', 'set'):
            if len(args) > 1 or args and not isinstance(args[0], (list, tuple, dict, str)):
                self.fail(node, '%s() of something other than a list, tuple, dict or string' % f.id)
            out = list(args[0]) if args else []
            self.check_size(node, len(out))
            return out if f.id == 'list' else tuple(out)
        scalar = (int, float, str, bool)
        if f.id == 'len':
            if len(args) != 1 or not isinstance(args[0], (list, tuple, dict, str)):
                self.fail(node, 'len() of something other than a list, tuple, dict or string')
            return len(args[0])
        if f.id in ('min', 'max'):
            seq = args[0] if len(args) == 1 and isinstance(args[0], (list, tuple)) else args
            if not seq or not all(isinstance(v, (int, float)) for v in seq):
                self.fail(node, '%s() of something other than numbers' % f.id)
            return min(seq) if f.id == 'min' else max(seq)
        if not args or len(args) > (2 if f.id == 'round' else 1) or not all(isinstance(a, scalar) for a in args):
            self.fail(node, '%s() of something other than one number or string' % f.id)
        try:
            if f.id == 'int' and isinstance(args[0], str) and len(args[0]) > 40:
                raise ValueError('too long')
            if f.id == 'round' and len(args) == 2 and not (self.is_int(args[1]) and abs(args[1]) < 20):
                raise ValueError('ndigits')
            return self.check_number(node, {'abs': abs, 'int': int, 'float': float, 'str': str, 'bool': bool,
                                            'round': round}[f.id](*args))
        except (ValueError, TypeError, OverflowError) as e:
            self.fail(node, '%s(): %s' % (f.id, e))

    def binop(self, node, op, a, b):
        num = (int, float)
        try:
            if isinstance(op, ast.Pow):
                if not (isinstance(a, num) and isinstance(b, num)):
                    self.fail(node, '** of something other than numbers')
                if self.is_int(b) and abs(b) > 64 and not (isinstance(a, num) and abs(a) <= 1):
                    self.fail(node, 'an exponent larger than 64')
                if isinstance(b, float) and abs(b) > 64:
                    self.fail(node, 'an exponent larger than 64')
                if self.is_int(a) and a.bit_length() * max(b, 1) > MAX_INT_BITS * 2 and self.is_int(b):
                    self.fail(node, 'an integer larger than 2**%d' % MAX_INT_BITS)
                r = a ** b
                if isinstance(r, complex):
                    self.fail(node, 'a complex result')
                return self.check_number(node, r)
            if isinstance(op, ast.Mult):
                if isinstance(a, (str, list, tuple)) and self.is_int(b) or isinstance(b, (str, list, tuple)) \
                        and self.is_int(a):
                    seq, n = (a, b) if self.is_int(b) else (b, a)
                    self.check_size(node, len(seq) * max(n, 0))
                    return seq * n
                if isinstance(a, num) and isinstance(b, num):
                    return self.check_number(node, a * b)
            elif isinstance(op, ast.Add):
                if isinstance(a, num) and isinstance(b, num) or isinstance(a, str) and isinstance(b, str) \
                        or isinstance(a, list) and isinstance(b, list) or isinstance(a, tuple) and isinstance(b, tuple):
                    if isinstance(a, (str, list, tuple)):
                        self.check_size(node, len(a) + len(b))
                    return self.check_number(node, a + b)
            elif isinstance(op, (ast.Sub, ast.Div, ast.FloorDiv)):
                if isinstance(a, num) and isinstance(b, num):
                    r = a - b if isinstance(op, ast.Sub) else a / b if isinstance(op, ast.Div) else a // b
                    return self.check_number(node, r)
            elif isinstance(op, ast.Mod):
                if isinstance(a, num) and isinstance(b, num):
                    return self.check_number(node, a % b)
                if isinstance(a, str):
                    args = b if isinstance(b, (tuple, dict)) else (b,)
                    vals = args.values() if isinstance(args, dict) else args
                    if not all(isinstance(v, (str, int, float, bool)) for v in vals):
                        self.fail(node, '%-formatting with something other than strings and numbers')
                    if re.search(r'%[-+ #0]*(\*|\d{3,})', a):
                        self.fail(node, '%-formatting with a width of 100 or more')
                    return self.check_number(node, a % args)
        except ZeroDivisionError:
            self.fail(node, 'division by zero')
        except (TypeError, ValueError, KeyError, OverflowError) as e:
            self.fail(node, 'operator %s: %s' % (type(op).__name__, e))
        self.fail(node, 'operator %s on %s and %s' % (type(op).__name__, type(a).__name__, type(b).__name__))

    def compare(self, node, op, a, b):
        ok = (str, int, float, bool, type(None), list, tuple, dict)
        if not isinstance(a, ok) or not isinstance(b, ok):
            self.fail(node, 'a comparison of modules')
        try:
            if isinstance(op, ast.Eq):
                return a == b
            if isinstance(op, ast.NotEq):
                return a != b
            if isinstance(op, ast.Is):
                return a is b if b is None or isinstance(b, bool) else self.fail(node, "'is' with something other "
                                                                                 "than None, True or False")
            if isinstance(op, ast.IsNot):
                return a is not b if b is None or isinstance(b, bool) else self.fail(node, "'is not' with "
                                                                                     "something other than None")
            if isinstance(op, ast.In):
                return a in b
            if isinstance(op, ast.NotIn):
                return a not in b
            return {ast.Lt: lambda: a < b, ast.LtE: lambda: a <= b, ast.Gt: lambda: a > b,
                    ast.GtE: lambda: a >= b}[type(op)]()
        except (TypeError, KeyError) as e:
            self.fail(node, 'comparison: %s' % e)

    def subscript(self, node, d):
        obj = self.expr(node.value, d)
        sl = node.slice
        if isinstance(sl, ast.Slice):
            parts = [None if p is None else self.expr(p, d) for p in (sl.lower, sl.upper, sl.step)]
            if not all(p is None or self.is_int(p) for p in parts) or parts[2] == 0:
                self.fail(node, 'a slice with bounds that are not integers')
            if not isinstance(obj, (list, tuple, str)):
                self.fail(node, 'a slice of a %s' % type(obj).__name__)
            return obj[slice(*parts)]
        key = self.expr(sl, d)
        if isinstance(obj, dict) and isinstance(key, str):
            if key not in obj:
                self.fail(node, "key '%s' is not in the dict" % key)
            return obj[key]
        if isinstance(obj, (list, tuple, str)) and self.is_int(key):
            if not -len(obj) <= key < len(obj):
                self.fail(node, 'index %d out of range' % key)
            return obj[key]
        self.fail(node, 'a subscript of a %s by a %s' % (type(obj).__name__, type(key).__name__))

    def attribute(self, node, d):
        if node.attr.startswith('_'):
            self.fail(node, "attribute '%s' (names starting with '_' are refused)" % node.attr)
        if isinstance(node.value, ast.Name) and node.value.id == '_base_':
            if node.attr not in self.base:
                self.fail(node, "'_base_.%s' is not defined by the _base_ files" % node.attr)
            return self.base[node.attr]
        obj = self.expr(node.value, d)
        if isinstance(obj, BaseRef):
            return obj.values[node.attr]
        if isinstance(obj, ModuleRef):
            return ModuleRef(obj.name + '.' + node.attr) if node.attr[:1].islower() else TypeRef(node.attr)
        if isinstance(obj, dict) and node.attr in obj:  # mmengine's ConfigDict reads keys as attributes
            return obj[node.attr]
        self.fail(node, "attribute '%s' of a %s" % (node.attr, type(obj).__name__))


def merge(base, child, where):
    """mmengine's merge: dicts merge key by key, `_delete_=True` replaces, anything else replaces."""
    out = dict(base)
    for k, v in child.items():
        _walk(where)
        if isinstance(v, dict) and not v.get('_delete_', False) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v, where)
        elif isinstance(v, dict):
            out[k] = strip_delete(v, where)
        else:
            out[k] = v
    return out


def strip_delete(v, where):
    _walk(where)
    if isinstance(v, dict):
        return {k: strip_delete(x, where) for k, x in v.items() if k != '_delete_'}
    if isinstance(v, (list, tuple)):
        return type(v)(strip_delete(x, where) for x in v)
    return v


BASE_REF = re.compile(r"""(['"]?)\{\{\s*_base_\.([A-Za-z_][\w.]*)\s*\}\}\1""")


def load(path, chain=()):
    """The values of one file (its bases merged in), as mmengine's Config.fromfile gives them."""
    real = os.path.realpath(path)
    if real in chain:
        names = [os.path.relpath(p) for p in chain + (real,)]
        raise ConfigError('%s: _base_ cycle: %s' % (path, ' -> '.join(names)))
    if len(chain) >= MAX_BASE_DEPTH:
        raise ConfigError('%s: _base_ chain deeper than %d files' % (path, MAX_BASE_DEPTH))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block
        with os.fdopen(fd, 'rb') as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ConfigError('%s: not a regular file' % path)
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise ConfigError('%s: %s' % (path, e.strerror))
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError('%s: larger than %d bytes' % (path, MAX_FILE_BYTES))
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as e:
        raise ConfigError('%s: not UTF-8 (byte %d)' % (path, e.start))
    text = BASE_REF.sub(lambda m: '_base_.' + m.group(2), text)
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as e:
        raise ConfigError('%s:%s:%s: syntax error: %s' % (path, e.lineno, e.offset, e.msg))
    except (RecursionError, MemoryError, ValueError):
        raise ConfigError('%s: nested too deeply to parse' % path)

    # Old style: `_base_ = 'x.py'` or a list, evaluated first (it must be literal) and merged before the file.
    base_values = {}
    for s in tree.body:
        if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == '_base_' for t in s.targets):
            ev = Evaluator(path, {}, None)
            names = ev.expr(s.value)
            if isinstance(names, str):
                names = [names]
            if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
                ev.fail(s, '_base_ must be a file name or a list of file names')
            for n in names:
                base_path = os.path.join(os.path.dirname(path), n)
                if not os.path.isfile(base_path):
                    ev.fail(s, "_base_ '%s' is not a regular file" % n)
                values = load(base_path, chain + (real,))
                dup = sorted(set(values) & set(base_values))
                if dup:
                    raise ConfigError('%s: key %s is defined by two _base_ files' % (_where(path, s), dup[0]))
                base_values.update(values)

    def loader(rel, frm, node):
        base_path = os.path.join(os.path.dirname(frm), rel)
        if not os.path.isfile(base_path):
            raise ConfigError("%s: read_base() file '%s' is not a regular file" % (_where(frm, node), rel))
        return load(base_path, chain + (real,))

    ev = Evaluator(path, base_values, loader)
    try:
        ev.run(tree)
    except RecursionError:
        raise ConfigError('%s: nested too deeply' % path)
    # New style (read_base): the file's namespace is the config; a name it binds again replaces the base's value
    # (mmengine merges only through .update()).
    own = {k: v for k, v in ev.ns.items()
           if not k.startswith('_') and k not in ev.imported and not isinstance(v, (ModuleRef, BaseRef))}
    return merge(base_values, own, path)


def to_json(v, where='config'):
    """Tuples become lists, type references their names."""
    _walk(where)
    if isinstance(v, dict):
        return {str(k): to_json(x, where) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json(x, where) for x in v]
    if isinstance(v, TypeRef):
        return str(v)
    if isinstance(v, ModuleRef):
        return v.name
    return v


# ----- libsscma's form

# Top-level keys of mmengine's Runner that libsscma's runner does not read (docs/configs.md): they are dropped.
IGNORED_TOP = ('custom_imports', 'visualizer', 'vis_backends', 'log_processor', 'env_cfg', 'find_unused_parameters',
               'auto_scale_lr', 'optimizer_config', 'evaluation', 'deploy', 'quantizer_config', 'launcher',
               'dump_config', 'cfg')
# Keys inside the sections libsscma reads that it does not support, with what dropping them means.
UNSUPPORTED = {
    'model.skip_preprocessor': 'libsscma normalizes in the loader (the model has no preprocessor to skip)',
    'model.head.cls_weight': "SSCMA's extra weight of the class channels: libsscma weighs them by "
                             'loss_cls.pos_weight (default 40)',
    'model.neck.dim': 'GlobalAveragePooling pools 2-D feature maps only',
    'model.quantizer_config': 'quantization is configured on the command line (sscma export)',
    'default_hooks.visualization': 'no visualization hook (the work dir gets predictions.png and curves.svg)',
}
KEPT_CUSTOM_HOOKS = ('EMAHook', 'EarlyStoppingHook', 'PipelineSwitchHook')
ALBU_KEPT = ('Blur', 'MedianBlur', 'ToGray', 'CLAHE')
DROPPED_TRANSFORMS = {
    'Bbox2FomoMask': "libsscma encodes FOMO's targets in the loader (FomoTarget), from the model's stride",
}


def unscoped(t):
    return t.rsplit('.', 1)[-1] if isinstance(t, str) else t


def adapt(cfg, warn):
    """SSCMA's evaluated config in libsscma's form; warn(key, why) for every key dropped."""
    out = dict(cfg)
    for k in IGNORED_TOP:
        if k in out:
            warn(k, "mmengine's, not read by libsscma")
            del out[k]
    for dotted, why in UNSUPPORTED.items():
        parts = dotted.split('.')
        node = out
        for p in parts[:-1]:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict) and parts[-1] in node:
            if node[parts[-1]] not in (False, None):
                warn(dotted, why)
            del node[parts[-1]]
    model = out.get('model')
    family = str(model.get('type', '')).rsplit('.', 1)[-1] if isinstance(model, dict) else ''
    # models without an image input size: sensor windows, clips, SSCMA's anomaly detectors (x_size, windows)
    windows = family in ('AccelerometerClassifier', 'Audio_classify', 'LODA', 'Vae_Model')
    if family == 'Audio_classify' and 'segment_length' not in model and isinstance(out.get('width'), int):
        model['segment_length'] = out['width']  # the clip length: SSCMA's recipe calls it width (libsscma's key)
    if isinstance(model, dict) and 'input_size' not in model and not windows:  # sensor models: the window sizes
        h, w = out.get('height'), out.get('width')
        size = out.get('imgsz')
        if isinstance(h, int) and isinstance(w, int):
            model['input_size'] = [h, w]
        elif isinstance(size, (list, tuple)) and len(size) == 2:
            model['input_size'] = [size[1], size[0]]  # SSCMA's imgsz is (width, height)
        else:
            warn('model.input_size', 'not in the file, and no height/width or imgsz to take it from')
    hooks = out.get('custom_hooks')
    if isinstance(hooks, list):
        kept = []
        for i, h in enumerate(hooks):
            if isinstance(h, dict) and unscoped(h.get('type')) not in KEPT_CUSTOM_HOOKS:
                warn('custom_hooks[%d]' % i, '%s is not a libsscma hook' % h.get('type'))
            else:
                kept.append(h)
        if kept or not hooks:
            out['custom_hooks'] = kept
        else:
            del out['custom_hooks']
    rnd = out.get('randomness')
    if isinstance(rnd, dict) and 'seed' in rnd and rnd['seed'] is None:
        warn('randomness.seed', 'None (a random seed) is not supported: libsscma always seeds, with 0 by default')
        out['randomness'] = {k: v for k, v in rnd.items() if k != 'seed'}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        node = out.get(key)
        pipe_owner = node.get('dataset') if isinstance(node, dict) else None
        if isinstance(node, list):
            out[key] = adapt_pipeline(node, key, warn)
        elif isinstance(pipe_owner, dict) and isinstance(pipe_owner.get('pipeline'), list):
            pipe_owner['pipeline'] = adapt_pipeline(pipe_owner['pipeline'], key + '.dataset.pipeline', warn)
    return out


def adapt_pipeline(pipeline, where, warn):
    kept = []
    for i, t in enumerate(pipeline):
        kind = unscoped(t.get('type')) if isinstance(t, dict) else None
        if kind in DROPPED_TRANSFORMS:
            warn('%s[%d]' % (where, i), '%s: %s' % (kind, DROPPED_TRANSFORMS[kind]))
            continue
        if kind == 'Albu' and isinstance(t.get('transforms'), list):
            inner = []
            for j, a in enumerate(t['transforms']):
                if isinstance(a, dict) and a.get('type') in ALBU_KEPT:
                    inner.append(a)
                else:
                    warn('%s[%d].transforms[%d]' % (where, i, j), 'albumentations %s is not available (only %s)'
                         % (a.get('type') if isinstance(a, dict) else a, ', '.join(ALBU_KEPT)))
            t = dict(t, transforms=inner)
            if not inner:
                continue
        kept.append(t)
    return kept


def main(argv=None):
    ap = argparse.ArgumentParser(prog='sscma config convert',
                                 description='Converts an SSCMA (mmengine) Python config to a libsscma JSON config '
                                             'without executing it.')
    ap.add_argument('file', help='the .py config (its _base_ files are read too)')
    ap.add_argument('-o', '--out', help='the JSON file to write (default: standard output)')
    ap.add_argument('--strict', action='store_true', help='exit 3 when a key libsscma does not support was dropped')
    ap.add_argument('--raw', action='store_true', help="write mmengine's evaluated config as it is (no adaptation)")
    args = ap.parse_args(argv)
    dropped = []

    def warn(key, why):
        dropped.append(key)
        print('%s: %s: not supported by libsscma, dropped: %s' % (args.file, key, why), file=sys.stderr)

    try:
        cfg = load(args.file)
        if not args.raw:
            cfg = adapt(cfg, warn)
        text = json.dumps(to_json(cfg, args.file), indent=2) + '\n'
    except ConfigError as e:
        print('sscma config convert: %s' % e, file=sys.stderr)
        return 1
    except RecursionError:
        print('sscma config convert: %s: values nested too deeply' % args.file, file=sys.stderr)
        return 1
    if args.out:
        tmp = args.out + '.tmp'
        with open(tmp, 'w') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, args.out)
    else:
        sys.stdout.write(text)
    if dropped:
        print('%s: %d key(s) dropped' % (args.file, len(dropped)), file=sys.stderr)
    return 3 if args.strict and dropped else 0


if __name__ == '__main__':
    sys.exit(main())
