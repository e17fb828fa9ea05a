"""Matters the residents decide together (issue 23, the "five matters" method): a proposal
(民提), the grid's discussion (网格议), the households' vote (议定), the linked action (联动) and
the residents' evaluation (民评), disclosed on the public board without personal data.

`services` (proposing, supporting, accepting, the meeting and its minutes, seeing), `votes` (one
per household, the count, frozen), `thresholds` (Civil Code Art. 278 in exact fractions),
`action` (tasks with their clocks, spending, progress) and `evaluation`.
"""
