def test_error_summary_keeps_the_reasons_and_drops_traceback_frames() -> None:
    from benchmarks._suite import error_summary

    text = (
        "RuntimeError: worker exited during the run:\n"
        "Traceback (most recent call last):\n"
        '  File "/somewhere/site-packages/faust/topics.py", line 437, in publish_message\n'
        "aiokafka.errors.MessageSizeTooLargeError: [Error 10] too large\n"
    )
    summary = error_summary(text)
    assert "site-packages" not in summary
    assert "MessageSizeTooLargeError: [Error 10] too large" in summary
