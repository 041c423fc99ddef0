package handlers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"agora/chat"
	"agora/views"
)

// failedShown is how many failed jobs /admin/jobs lists, the latest first.
const failedShown = 100

// handleAdminJobs shows admins the job queue and the jobs that failed.
func (s *Server) handleAdminJobs(c echo.Context) error {
	return s.renderAdminJobs(c, http.StatusOK, s.takeFlash(c), "")
}

func (s *Server) renderAdminJobs(c echo.Context, status int, ok, errMsg string) error {
	ctx := c.Request().Context()
	counts, err := s.store.CountJobs(ctx)
	if err != nil {
		return err
	}
	failed, err := s.store.JobsIn(ctx, chat.JobFailed, failedShown)
	if err != nil {
		return err
	}
	p, audit, err := s.adminPage(c, "Admin: jobs")
	if err != nil {
		return err
	}
	return render(c, status, views.AdminJobsPage(p, counts, failed, audit, ok, errMsg))
}

// handleRetryJob queues a failed job again, at once and with its attempts
// anew.
func (s *Server) handleRetryJob(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return s.renderAdminJobs(c, http.StatusNotFound, "", "There is no such job.")
	}
	j, err := s.store.RetryJob(c.Request().Context(), id)
	if err != nil {
		if chat.ErrorCode(err) == chat.ENotFound {
			return s.renderAdminJobs(c, http.StatusNotFound, "", chat.ErrorMessage(err))
		}
		return err
	}
	if err := s.audit(c, "retried job", "#"+strconv.FormatInt(j.ID, 10), j.Kind+": "+j.LastError); err != nil {
		return err
	}
	s.jobs.Wake()
	return s.adminDone(c, "/admin/jobs", "Job "+strconv.FormatInt(j.ID, 10)+" ("+j.Kind+") is queued again.")
}
