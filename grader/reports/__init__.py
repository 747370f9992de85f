"""Reports: pure renderers, results in, text out. The score card, class table, JSON and CSV
(`table`), the class summary (`summary`), the HTML report (`html`), the LMS files (`lms`),
Gradescope's and PrairieLearn's results (`gradescope`, `prairielearn`), the answer key (`key`)
and what the sandbox gives a submission here (`sandbox_info`). `formats` is the registry
`grade --format` chooses from: one renderer per format over one graded run."""
