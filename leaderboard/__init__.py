"""The eh-bench leaderboard Space: the Gradio app (:mod:`leaderboard.app`) over a store of verified
entries, its tables (:mod:`leaderboard.lb_data`), charts (:mod:`leaderboard.lb_charts`), About text
(:mod:`leaderboard.lb_about`) and the submission path (:mod:`leaderboard.lb_submit`).

Run it with ``python -m leaderboard.app --store DIR``; it never writes its own data.
"""
