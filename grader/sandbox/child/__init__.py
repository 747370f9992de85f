"""The program that runs student code: a worker serving the grader, its fork server, and the
runner where student code runs. Standard library and numpy only; it can't reach the grader's
other modules (the grader's copies are hidden from it), and the grader imports only its wire
format and the vocabulary both sides share."""
