"""The condition sandbox: gateway conditions are checked and evaluated without ``eval``.

SpiffWorkflow evaluates a sequence flow's ``conditionExpression`` as Python. An uploaded
file must never run code, so a condition may only be made of names (task data), constants,
comparisons (``== != < <= > >= in not in is is not``), ``and``/``or``/``not``, unary
minus and literal lists/tuples/sets (for ``in``). ``condition_problem`` checks a condition
with :mod:`ast` at upload; ``condition_evaluate`` interprets the same tree at run time by
walking it (no ``eval``, no attribute access, no calls, no arithmetic), so a condition that
slipped past the upload check still cannot do anything but compare values.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext as _

MAX_CONDITION_LENGTH = 1000
MAX_NODES = 200
MAX_STRING_LENGTH = 500


class ConditionError(Exception):
    """A condition could not be evaluated (unknown name, incomparable values, refused node)."""


_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda left, right: left in right,
    ast.NotIn: lambda left, right: left not in right,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}

_CONSTANT_TYPES = (str, int, float, bool, type(None))


def _parse(expression: str) -> ast.Expression:
    text = expression.strip()
    if not text:
        raise ConditionError(_("条件为空"))
    if len(text) > MAX_CONDITION_LENGTH:
        raise ConditionError(_("条件过长（最多%(n)d个字符）") % {"n": MAX_CONDITION_LENGTH})
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ConditionError(_("条件不是合法的表达式")) from None
    return tree


def _check_node(node: ast.AST) -> None:
    """Raise ``ConditionError`` naming the first construct the sandbox does not allow."""
    if isinstance(node, ast.Expression):
        _check_node(node.body)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            _check_node(value)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.Not | ast.USub | ast.UAdd):
            raise ConditionError(_("条件中不允许的运算符"))
        _check_node(node.operand)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise ConditionError(_("条件中不允许的比较运算"))
        _check_node(node.left)
        for comparator in node.comparators:
            _check_node(comparator)
    elif isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise ConditionError(_("条件中的名称不能以下划线开头：%(name)s") % {"name": node.id})
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, _CONSTANT_TYPES):
            raise ConditionError(_("条件中不允许的常量"))
        if isinstance(node.value, str) and len(node.value) > MAX_STRING_LENGTH:
            raise ConditionError(_("条件中的字符串过长"))
    elif isinstance(node, ast.List | ast.Tuple | ast.Set):
        for element in node.elts:
            if isinstance(element, ast.Starred):
                raise ConditionError(_("条件中不允许的写法"))
            _check_node(element)
    else:
        raise ConditionError(
            _("条件中只允许名称、常量、比较和与或非，不允许 %(construct)s")
            % {"construct": type(node).__name__}
        )


def condition_problem(expression: str) -> str | None:
    """Why ``expression`` is not a safe condition, or None when it is."""
    try:
        tree = _parse(expression)
        if sum(1 for _node in ast.walk(tree)) > MAX_NODES:
            raise ConditionError(_("条件过于复杂"))
        _check_node(tree)
    except ConditionError as error:
        return str(error)
    except RecursionError:
        return _("条件过于复杂")
    return None


def _evaluate(node: ast.AST, names: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, names)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise ConditionError(_("条件引用了未提供的数据：%(name)s") % {"name": node.id})
        return names[node.id]
    if isinstance(node, ast.BoolOp):
        is_and = isinstance(node.op, ast.And)
        result: Any = None
        for value in node.values:
            result = _evaluate(value, names)
            if is_and and not result:
                return result
            if not is_and and result:
                return result
        return result
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, names)
        if isinstance(node.op, ast.Not):
            return not operand
        if not isinstance(operand, int | float) or isinstance(operand, bool):
            raise ConditionError(_("只能对数字取负"))
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, names)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, names)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        values = [_evaluate(element, names) for element in node.elts]
        if isinstance(node, ast.Set):
            try:
                return set(values)
            except TypeError:
                raise ConditionError(_("集合中的值无法比较")) from None
        return values
    raise ConditionError(_("条件中不允许的写法"))


def condition_evaluate(expression: str, names: Mapping[str, Any]) -> Any:
    """The value of a safe condition over ``names`` (task data); ``ConditionError`` otherwise."""
    problem = condition_problem(expression)
    if problem is not None:
        raise ConditionError(problem)
    tree = _parse(expression)
    try:
        return _evaluate(tree, names)
    except ConditionError:
        raise
    except (TypeError, ValueError, RecursionError):
        raise ConditionError(
            _("条件无法计算（数据类型不能比较）：%(expression)s") % {"expression": expression}
        ) from None
