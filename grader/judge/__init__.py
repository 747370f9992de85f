"""Judging: pure verdicts and words, from the student's answers and the model answer's. An
answer is compared (`compare`) and each case gets its verdict (`verdict`); a wrong one is
explained by a known mistake (`catalogue`, `diagnose`) or by the student's own earlier functions
(`carry`, `own_gradient`), a missing one by why it is missing (`absence`), and each question
gets its sentence (`feedback`, in the words of `wording`, which the self-check file shares)."""
